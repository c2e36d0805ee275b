#!/usr/bin/env bash
# bench/suites/control_plane.sh: control-plane speed (bench/README.md, "control_plane").
# Session set-ups per second and answer-time percentiles from the module socket through the real
# mpx-dispatcher, TLS and mpx-relay (userspace datapath, loopback) and back, with 1, 8 and 32
# concurrent module connections, at 0, 10k and 50k live sessions; the same for remove; and
# rtpengine's offer/answer/delete over its ng protocol measured the same way in the same run.
# The load driver is mpx_bench_signal (bench/control_plane/signal_bench.cpp); raw results go to
# $MPX_BENCH_OUT/control_plane.raw.jsonl and bench/control_plane/summarize.py writes
# control_plane.json. Contract: bench/README.md ("Suite contract"). The dispatcher and rtpengine run
# on loopback; relay N runs in its own network namespace b2cp<pid>-N joined to the root namespace
# by a veth (10.77.N.2 relay, 10.77.N.1 root side): the dispatcher tells relays apart by their
# source address, so relays on one host need one address each. Every process and namespace
# started here is removed on exit.
#
# Tunables (environment): MPX_BENCH_CP_LIVE (comma list of live-session levels),
# MPX_BENCH_CP_CONNS (comma list), MPX_BENCH_CP_CALLS (calls per measurement),
# MPX_BENCH_CP_RELAYS (relay processes), MPX_BENCH_CP_PRELOAD (see below).
set -Eeuo pipefail

QUICK=${MPX_BENCH_QUICK:-0}
BUILD=${MPX_BUILD_DIR:?MPX_BUILD_DIR is not set}
SRC=${MPX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${MPX_BENCH_OUT:?MPX_BENCH_OUT is not set}
mkdir -p "$OUT"

SIGNAL=$BUILD/bench/mpx_bench_signal
RELAY_BIN=$BUILD/relay/mpx-relay
DISPATCHER_BIN=$BUILD/dispatcher/mpx-dispatcher
for f in "$SIGNAL" "$RELAY_BIN" "$DISPATCHER_BIN"; do
  [[ -x $f ]] || { echo "control_plane: missing $f (build the mpx_bench target)" >&2; exit 1; }
done

[[ $(id -u) == 0 ]] || { echo "control_plane: needs root (a namespace per relay)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/mpx-bench-control.XXXXXX)
RAW=$OUT/control_plane.raw.jsonl
NOTES=$WORK/notes.txt
: >"$RAW"
: >"$NOTES"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
T0=$(date +%s.%N)
PIDS=()

log() { echo "control_plane: $*" >&2; }
note() { echo "$*" >>"$NOTES"; log "note: $*"; }

NAMESPACES=()
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  [[ ${MPX_BENCH_KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_all() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

# Every media port is a socket: one relay process holds as many calls as its open-file limit
# allows (a container without CAP_SYS_RESOURCE cannot raise the hard limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FD_LIMIT=$(ulimit -n)
PORTS=$(((FD_LIMIT - 1500) / 4 * 4))
((PORTS > 40000)) && PORTS=40000
PER_RELAY=$((PORTS / 4))

if [[ $QUICK == 1 ]]; then
  DEFAULT_LIVE=0,300
  DEFAULT_CONNS=1,8
  DEFAULT_CALLS=200
else
  DEFAULT_LIVE=0,10000,50000
  DEFAULT_CONNS=1,8,32
  DEFAULT_CALLS=2000
fi
IFS=, read -r -a LIVE <<<"${MPX_BENCH_CP_LIVE:-$DEFAULT_LIVE}"
IFS=, read -r -a CONNS <<<"${MPX_BENCH_CP_CONNS:-$DEFAULT_CONNS}"
CALLS=${MPX_BENCH_CP_CALLS:-$DEFAULT_CALLS}
MAX_LIVE=0
for l in "${LIVE[@]}"; do ((l > MAX_LIVE)) && MAX_LIVE=$l; done
# Enough relays for the live sessions plus one measurement's calls, with 25 % slack because the
# dispatcher spreads calls over the relays without looking at their free ports.
NEED=$(((MAX_LIVE + CALLS) * 5 / 4))
RELAYS=${MPX_BENCH_CP_RELAYS:-$(((NEED + PER_RELAY - 1) / PER_RELAY))}
((RELAYS < 1)) && RELAYS=1
note "open-file limit $FD_LIMIT: $PORTS media ports ($PER_RELAY calls) per relay process; $RELAYS relay process(es), each in its own namespace"

"$SRC/tests/pki/make-test-pki.sh" "$WORK/pki" >/dev/null 2>&1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ------------------------------------------------------------------------------ mpx

RELAY_PORT=$(free_port)
MGMT_PORT=$(free_port)
mkdir -p "$WORK/dispatcher/run"
cat >"$WORK/dispatcher/config.ini" <<EOF
[Dispatcher]
listen = 0.0.0.0:$RELAY_PORT
listen_management = 127.0.0.1:$MGMT_PORT
management_use_tls = no
log_level = WARNING

[TLS]
certs_path = $WORK/pki
EOF
# MPX_BENCH_CP_PRELOAD: a library preloaded into the dispatcher and the relays (diagnosis, e.g.
# bench/control_plane/nodelay_shim.c); empty normally.
PRELOAD=${MPX_BENCH_CP_PRELOAD:-}
[[ -z $PRELOAD ]] || note "diagnosis run: dispatcher and relays run with LD_PRELOAD=$PRELOAD"
LD_PRELOAD=$PRELOAD "$DISPATCHER_BIN" --no-fork --config-dir "$WORK/dispatcher" \
  --runtime-dir "$WORK/dispatcher/run" >"$WORK/dispatcher.log" 2>&1 &
DISPATCHER_PID=$!
PIDS+=("$DISPATCHER_PID")
MODULE_SOCKET=$WORK/dispatcher/run/dispatcher.sock
for _ in $(seq 100); do [[ -S $MODULE_SOCKET ]] && break; sleep 0.1; done
[[ -S $MODULE_SOCKET ]] || { cat "$WORK/dispatcher.log" >&2; exit 1; }

# The dispatcher's management `summary`: one JSON array of relay summaries.
summary() {
  python3 - "$MGMT_PORT" <<'EOF'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"summary\r\n")
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
relays = json.loads(data.decode())
print(json.dumps({"relays": len([r for r in relays if r.get("status") != "error"]),
                  "sessions": sum(r.get("session_count", 0) for r in relays),
                  "per_relay": [r.get("session_count") for r in relays]}))
EOF
}

for i in $(seq "$RELAYS"); do
  ns=b2cp$$-$i
  ip netns add "$ns"
  NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  ip link add "b2cp$$h$i" type veth peer name eth0 netns "$ns"
  ip addr add "10.77.$i.1/30" dev "b2cp$$h$i"
  ip link set "b2cp$$h$i" up
  ip -n "$ns" addr add "10.77.$i.2/30" dev eth0
  ip -n "$ns" link set eth0 up
  dir=$WORK/relay$i
  mkdir -p "$dir/run"
  cat >"$dir/config.ini" <<EOF
[Relay]
dispatchers = 10.77.$i.1:$RELAY_PORT
relay_ip = 10.77.$i.2
port_range = 20000:$((20000 + PORTS))
stream_timeout = 86400
datapath = userspace
log_level = WARNING

[TLS]
certs_path = $WORK/pki
EOF
  LD_PRELOAD=$PRELOAD ip netns exec "$ns" "$RELAY_BIN" --config-dir "$dir" --runtime-dir "$dir/run" --no-fork \
    >"$dir/relay.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 150); do
  got=$(summary 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["relays"])' 2>/dev/null || echo 0)
  ((got == RELAYS)) && break
  sleep 0.2
done
((got == RELAYS)) || { log "only $got of $RELAYS relays registered"; tail -n 5 "$WORK"/relay*/relay.log >&2; exit 1; }

# measure PEER LIVE CONNS -- signal_bench target args: set up CALLS calls, then remove them.
measure() {
  local peer=$1 live=$2 conns=$3
  shift 3
  local prefix="m-$live-$conns" setup remove
  setup=$("$SIGNAL" "$@" --calls "$CALLS" --conns "$conns" --prefix "$prefix" \
    --caller 127.0.3.10:5000 --callee 127.0.4.20:6000) || true
  remove=$("$SIGNAL" "$@" --calls "$CALLS" --conns "$conns" --prefix "$prefix" --phase remove) || true
  echo "{\"peer\":\"$peer\",\"live\":$live,\"conns\":$conns,\"setup\":${setup:-null},\"remove\":${remove:-null}}" >>"$RAW"
  log "$peer live=$live conns=$conns: $(echo "$setup" | grep -o '"calls_per_s":[0-9.]*,"requests":[0-9]*,"p50_ms":[0-9.]*,"p99_ms":[0-9.]*') / remove $(echo "$remove" | grep -o '"calls_per_s":[0-9.]*')"
}

# preload PEER FROM TO -- target args: live calls FROM..TO-1 (prefix live).
preload() {
  local peer=$1 from=$2 to=$3
  shift 3
  ((to > from)) || return 0
  local r
  r=$("$SIGNAL" "$@" --calls $((to - from)) --first "$from" --conns 32 --prefix live \
    --caller 127.0.3.10:5000 --callee 127.0.4.20:6000) || true
  echo "{\"peer\":\"$peer\",\"preload\":$to,\"setup\":${r:-null}}" >>"$RAW"
  log "$peer preload to $to: $(echo "$r" | grep -o '"ok":[0-9]*,"failed":[0-9]*,"elapsed_s":[0-9.]*')"
}

have=0
for live in "${LIVE[@]}"; do
  preload mpx "$have" "$live" mpx --socket "$MODULE_SOCKET"
  have=$live
  [[ $live == 0 ]] || log "dispatcher summary: $(summary)"
  for c in "${CONNS[@]}"; do
    measure mpx "$live" "$c" mpx --socket "$MODULE_SOCKET"
  done
done
# What each process used (the dispatcher and every relay), for the notes.
ps -o pid=,rss=,time=,comm= -p "$(IFS=,; echo "${PIDS[*]}")" >"$OUT/control_plane.processes.txt" 2>/dev/null || true
stop_all

# ------------------------------------------------------------------------------ rtpengine

if command -v rtpengine >/dev/null; then
  NG_PORT=$(free_port)
  rtpengine --foreground --log-stderr --table=-1 --interface=127.0.2.1 \
    --listen-ng="127.0.0.1:$NG_PORT" --port-min=20000 --port-max=$((20000 + PORTS - 1)) \
    --log-level=2 --pidfile="$WORK/rtpengine.pid" --timeout=86400 --delete-delay=0 >"$WORK/rtpengine.log" 2>&1 &
  PIDS+=($!)
  ok=0
  for i in $(seq 40); do
    if "$SIGNAL" ng --ng "127.0.0.1:$NG_PORT" --calls 1 --prefix "probe-$i" >/dev/null 2>&1; then
      "$SIGNAL" ng --ng "127.0.0.1:$NG_PORT" --calls 1 --prefix "probe-$i" --phase remove >/dev/null 2>&1 || true
      ok=1
      break
    fi
    sleep 0.25
  done
  if ((ok)); then
    have=0
    capped_done=0
    for live in "${LIVE[@]}"; do
      if ((live + CALLS > PER_RELAY)); then
        # One process cannot hold these: measure once at the most it holds instead.
        capped=$(((PER_RELAY - CALLS) * 9 / 10 / 100 * 100))
        if ((capped_done || capped <= have)); then
          note "rtpengine at $live live sessions: not measured, one rtpengine process holds at most $PER_RELAY calls under the open-file limit $FD_LIMIT"
          continue
        fi
        note "rtpengine at $live live sessions: not possible (one rtpengine process holds at most $PER_RELAY calls under the open-file limit $FD_LIMIT); measured at $capped live sessions instead"
        live=$capped
        capped_done=1
      fi
      preload rtpengine "$have" "$live" ng --ng "127.0.0.1:$NG_PORT"
      have=$live
      for c in "${CONNS[@]}"; do
        measure rtpengine "$live" "$c" ng --ng "127.0.0.1:$NG_PORT"
      done
    done
  else
    note "rtpengine did not answer on its ng port; not measured"
    tail -n 20 "$WORK/rtpengine.log" >&2
  fi
  stop_all
else
  note "rtpengine is not installed; not measured"
fi

DURATION=$(awk -v s="$T0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
python3 "$SRC/bench/control_plane/summarize.py" --raw "$RAW" --notes "$NOTES" --quick "$QUICK" \
  --started "$STARTED" --duration "$DURATION" --calls "$CALLS" --relays "$RELAYS" \
  --out "$OUT/control_plane.json"
log "wrote $OUT/control_plane.json in ${DURATION}s"
