#!/usr/bin/env bash
# bench/suites/datapath.sh: datapath cost in the network lab (bench/README.md, "datapath").
# For each path (direct veth, plain IP forwarding, mpx conntrack / xdp native / xdp generic / tc /
# userspace, rtpengine userspace) and each flow count, mpx_bench_udp_blast sends 172-byte RTP
# packets from the caller namespace and receives them in the callee namespace (the relay
# namespace for direct veth), once at maximum rate and once at a fixed rate; the calls are set up
# through the real mpx-dispatcher (proxy namespace, module socket) and mpx-relay (relay
# namespace) with mpx_bench_signal, or through rtpengine's ng protocol. Raw results go to
# $MPX_BENCH_OUT/datapath.raw.jsonl; bench/datapath/summarize.py writes datapath.json.
# Contract: bench/README.md ("Suite contract") (environment MPX_BENCH_QUICK, MPX_BUILD_DIR,
# MPX_SOURCE_DIR, MPX_BENCH_OUT). Needs root; everything it creates (lab namespaces, the bpffs
# with the pinned maps, XDP/TC attachments, nft tables: all inside the lab) is removed on exit.
#
# Tunables (environment): MPX_BENCH_DP_PATHS (comma list of path ids, see PATH_IDS),
# MPX_BENCH_DP_FLOWS (comma list), MPX_BENCH_DP_SECONDS, MPX_BENCH_DP_FIXED_PPS,
# MPX_BENCH_DP_STRACE=1 (one extra max-load run per relay path under `strace -c`, written to
# datapath.strace.<path>.<flows>.txt, to see what the daemon spends its system calls on).
set -Eeuo pipefail

QUICK=${MPX_BENCH_QUICK:-0}
BUILD=${MPX_BUILD_DIR:?MPX_BUILD_DIR is not set}
SRC=${MPX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${MPX_BENCH_OUT:?MPX_BENCH_OUT is not set}
mkdir -p "$OUT"

BLAST=$BUILD/bench/mpx_bench_udp_blast
SIGNAL=$BUILD/bench/mpx_bench_signal
RELAY_BIN=$BUILD/relay/mpx-relay
DISPATCHER_BIN=$BUILD/dispatcher/mpx-dispatcher
LAB_SH=$SRC/scripts/lab.sh
for f in "$BLAST" "$SIGNAL" "$RELAY_BIN" "$DISPATCHER_BIN"; do
  [[ -x $f ]] || { echo "datapath: missing $f (build the mpx_bench target)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "datapath: needs root (network namespaces)" >&2; exit 1; }

PATH_IDS=(veth forward conntrack xdp-native xdp-generic tc userspace rtpengine)
if [[ $QUICK == 1 ]]; then
  DEFAULT_PATHS=veth,conntrack,userspace,rtpengine
  DEFAULT_FLOWS=100
  SECONDS_PER_RUN=1
  DEFAULT_FIXED=20000
else
  DEFAULT_PATHS=$(IFS=,; echo "${PATH_IDS[*]}")
  # 10,000 flows need 40,000 media ports (one socket each) in one relay process: more than the
  # open-file limit of this machine allows (see FD_NOTE); 4,000 is the largest that fits.
  DEFAULT_FLOWS=100,1000,4000
  SECONDS_PER_RUN=3
  DEFAULT_FIXED=100000
fi
IFS=, read -r -a PATHS <<<"${MPX_BENCH_DP_PATHS:-$DEFAULT_PATHS}"
IFS=, read -r -a FLOWS <<<"${MPX_BENCH_DP_FLOWS:-$DEFAULT_FLOWS}"
SECONDS_PER_RUN=${MPX_BENCH_DP_SECONDS:-$SECONDS_PER_RUN}
FIXED_PPS=${MPX_BENCH_DP_FIXED_PPS:-$DEFAULT_FIXED}
command -v rtpengine >/dev/null || PATHS=("${PATHS[@]/rtpengine/}")

LAB=b2dp$$
WORK=$(mktemp -d /tmp/mpx-bench-datapath.XXXXXX)
RAW=$OUT/datapath.raw.jsonl
NOTES=$WORK/notes.txt
: >"$RAW"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" >"$NOTES"
T0=$(date +%s.%N)
PIDS=()

log() { echo "datapath: $*" >&2; }
note() { echo "$*" >>"$NOTES"; log "note: $*"; }

# Stops the processes this suite started (by PID), then removes the lab: the namespaces take
# their veths, XDP/TC programs, nft tables and conntrack entries with them; lab.sh down unmounts
# the lab's bpffs (the pinned maps).
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  "$LAB_SH" down "$LAB" >/dev/null 2>&1 || log "lab.sh down $LAB failed; run it by hand"
  [[ ${MPX_BENCH_KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {  # PID: SIGTERM, bounded wait, SIGKILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local kept=()
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

# Every media port is a socket, in mpx-relay as in rtpengine: the port range must fit the hard
# open-file limit (a container without CAP_SYS_RESOURCE cannot raise it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FD_LIMIT=$(ulimit -n)
PORTS=$(( (FD_LIMIT - 1500) / 4 * 4 ))
((PORTS > 42000)) && PORTS=42000
PORT_RANGE=20000:$((20000 + PORTS))
note "open-file limit $FD_LIMIT: media port range $PORT_RANGE ($((PORTS / 4)) calls at most per relay process)"

"$LAB_SH" up "$LAB" >/dev/null
# shellcheck disable=SC1090
source "/run/mpx-lab/$LAB/lab.env"
"$SRC/tests/pki/make-test-pki.sh" "$WORK/pki" >/dev/null 2>&1
# Native XDP redirect into a veth needs NAPI on the receiving end: GRO on the endpoints' veths.
for ns in "$NS_CALLER" "$NS_CALLEE"; do
  ip netns exec "$ns" ethtool -K eth0 gro on >/dev/null 2>&1 || true
done

# ------------------------------------------------------------------------------ the dispatcher

mkdir -p "$WORK/dispatcher/run"
cat >"$WORK/dispatcher/config.ini" <<EOF
[Dispatcher]
listen = $PROXY:25060
listen_management = $PROXY:25061
log_level = WARNING

[TLS]
certs_path = $WORK/pki
EOF
ip netns exec "$NS_PROXY" "$DISPATCHER_BIN" --no-fork --config-dir "$WORK/dispatcher" \
  --runtime-dir "$WORK/dispatcher/run" >"$WORK/dispatcher.log" 2>&1 &
PIDS+=($!)
MODULE_SOCKET=$WORK/dispatcher/run/dispatcher.sock
for _ in $(seq 100); do [[ -S $MODULE_SOCKET ]] && break; sleep 0.1; done
[[ -S $MODULE_SOCKET ]] || { cat "$WORK/dispatcher.log" >&2; exit 1; }

# ------------------------------------------------------------------------------ measurement

# measure PATH FLOWS LOAD RATE RECV_NS RECV_BIND -- sender destination args
measure() {
  local path=$1 flows=$2 load=$3 rate=$4 rns=$5 rbind=$6
  shift 6
  local rf=$WORK/recv.json duration=$SECONDS_PER_RUN greet=()
  if [[ $load == warmup ]]; then
    duration=1.2
    [[ -s $WORK/offer_ports.txt ]] && greet=(--greet-file "$WORK/offer_ports.txt")
  fi
  ip netns exec "$rns" "$BLAST" recv --bind "$rbind" --duration $((SECONDS_PER_RUN + 20)) \
    --idle-ms 60000 --cpu 1 "${greet[@]}" >"$rf" &
  local rpid=$!
  PIDS+=("$rpid")
  for _ in $(seq 200); do grep -q ready "$rf" 2>/dev/null && break; sleep 0.05; done
  # The machine's busy CPU while this suite only sleeps: other work on the machine, subtracted
  # from the run's figure by summarize.py.
  local bg=null
  [[ $load == warmup ]] || bg=$("$BLAST" idle --duration 0.5)
  local s d0 d1
  d0=$(daemon_ticks)
  s=$(ip netns exec "$NS_CALLER" "$BLAST" send "$@" --flows "$flows" --rate "$rate" \
    --duration "$duration" --cpu 0)
  d1=$(daemon_ticks)
  sleep 0.5  # what is in flight arrives
  stop_pid "$rpid"
  # Drain: what a slow relay still holds in its socket buffers must not count in the next run.
  ip netns exec "$rns" "$BLAST" recv --bind "$rbind" --duration 15 --idle-ms 300 >/dev/null
  local r
  r=$(tail -n1 "$rf")
  echo "{\"path\":\"$path\",\"flows\":$flows,\"load\":\"$load\",\"rate\":$rate,\"send\":$s,\"recv\":$r,\"background\":$bg,\"daemon_cpu_s\":$(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.3f", (b - a) / 100 }')}" >>"$RAW"
  log "$path flows=$flows $load: $(echo "$s" | grep -o '"sent":[0-9]*') $(echo "$r" | grep -o '"received":[0-9]*')"
}

# CPU ticks (user + system, all threads) of the relay daemon under test (mpx-relay or rtpengine).
DAEMON_PID=
daemon_ticks() {
  if [[ -n $DAEMON_PID && -r /proc/$DAEMON_PID/stat ]]; then
    awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"
  else
    echo 0
  fi
}

# runs_for PATH FLOWS RECV_NS RECV_BIND -- sender destination args: warm-up (latching), max, fixed.
runs_for() {
  local path=$1 flows=$2 rns=$3 rbind=$4
  shift 4
  local warm=$((flows * 25))
  ((warm < 5000)) && warm=5000
  measure "$path" "$flows" warmup "$warm" "$rns" "$rbind" "$@"
  sleep 0.3
  # The fixed load before the max load: an overloaded relay may not recover at once (rtpengine
  # stops a stream whose receive queue overflowed 5 times), which must not spill into the
  # fixed-load figure. The direct veth goes max first: it sets the fixed load (below).
  [[ $path == veth ]] || measure "$path" "$flows" fixed "$FIXED_PPS" "$rns" "$rbind" "$@"
  measure "$path" "$flows" max 0 "$rns" "$rbind" "$@"
  if [[ $path == veth && -z ${FIXED_CHECKED:-} ]]; then
    # The fixed load must be one every path can carry: at most half of what the generator gets
    # through the direct veth on this machine.
    FIXED_CHECKED=1
    local veth_pps
    veth_pps=$(tail -n1 "$RAW" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(int(r["recv"]["received"] / r["send"]["elapsed_s"]))')
    if ((veth_pps / 2 < FIXED_PPS)); then
      local scaled=$((veth_pps / 2 / 1000 * 1000))
      ((scaled < 1000)) && scaled=1000
      note "fixed load scaled down from $FIXED_PPS to $scaled pps: the direct veth path carried only $veth_pps pps at max load on this machine"
      FIXED_PPS=$scaled
    fi
  fi
  [[ $path != veth ]] || measure "$path" "$flows" fixed "$FIXED_PPS" "$rns" "$rbind" "$@"
  if [[ ${MPX_BENCH_DP_STRACE:-0} == 1 && -n $DAEMON_PID ]]; then
    # Diagnosis only (not in the tables): the relay daemon's system calls during one more
    # max-load run; strace slows the daemon down, so this run's figures are not reported.
    local trace=$OUT/datapath.strace.$path.$flows.txt
    strace -c -f -q -p "$DAEMON_PID" -o "$trace" &
    local spid=$!
    PIDS+=("$spid")
    sleep 0.5
    measure "$path" "$flows" strace 0 "$rns" "$rbind" "$@"
    stop_pid "$spid"
  fi
}

RELAY_PID=
start_relay() {  # DATAPATH [XDP_MODE]
  local datapath=$1 mode=${2:-generic} dir=$WORK/relay-$1-${2:-x}
  mkdir -p "$dir/run"
  {
    echo "[Relay]"
    if [[ $datapath == xdp || $datapath == tc ]]; then
      echo "bpf_interfaces = caller0, callee0"
      echo "xdp_mode = $mode"
      echo "bpf_pin_path = $LAB_BPFFS/relay"
    fi
    echo "dispatchers = $PROXY"
    echo "relay_ip = $RELAY_PUBLIC"
    echo "port_range = $PORT_RANGE"
    echo "stream_timeout = 600"
    echo "datapath = $datapath"
    echo "latching_window_ms = 200"
    # The lab's endpoints stand for public addresses: media may go to them before they latch.
    echo "routable_private_ranges = 10.0.0.0/8"
    echo "log_level = WARNING"
    echo
    echo "[TLS]"
    echo "certs_path = $WORK/pki"
  } >"$dir/config.ini"
  ip netns exec "$NS_RELAY" "$RELAY_BIN" --config-dir "$dir" --runtime-dir "$dir/run" --no-fork \
    >"$dir/relay.log" 2>&1 &
  RELAY_PID=$!
  DAEMON_PID=$RELAY_PID
  PIDS+=("$RELAY_PID")
  # Registered when a probe call gets a port.
  local i
  for i in $(seq 60); do
    kill -0 "$RELAY_PID" 2>/dev/null || break
    if "$SIGNAL" mpx --socket "$MODULE_SOCKET" --calls 1 --prefix "probe-$datapath-$mode-$i" \
      >/dev/null 2>&1; then
      "$SIGNAL" mpx --socket "$MODULE_SOCKET" --calls 1 --prefix "probe-$datapath-$mode-$i" \
        --phase remove >/dev/null 2>&1 || true
      return 0
    fi
    sleep 0.25
  done
  log "relay ($datapath $mode) did not come up:"
  tail -n 20 "$dir/relay.log" >&2
  stop_pid "$RELAY_PID"
  return 1
}

RTPENGINE_PID=
# --log-level=2 (critical): under overload rtpengine logs one ERR line per discarded packet
# ("UDP receive queue exceeded"), which would measure its logging; mpx-relay runs at WARNING and
# counts drops instead of logging them.
start_rtpengine() {
  ip netns exec "$NS_RELAY" rtpengine --foreground --log-stderr --table=-1 \
    --interface="$RELAY_PUBLIC" --listen-ng="$RELAY_PROXY_SIDE:2223" \
    --port-min=20000 --port-max=$((20000 + PORTS - 1)) --log-level=2 --pidfile="$WORK/rtpengine.pid" \
    --timeout=600 --delete-delay=0 >"$WORK/rtpengine.log" 2>&1 &
  RTPENGINE_PID=$!
  DAEMON_PID=$RTPENGINE_PID
  PIDS+=("$RTPENGINE_PID")
  local i
  for i in $(seq 40); do
    kill -0 "$RTPENGINE_PID" 2>/dev/null || break
    if ip netns exec "$NS_PROXY" "$SIGNAL" ng --ng "$RELAY_PROXY_SIDE:2223" --calls 1 \
      --prefix "probe-$i" >/dev/null 2>&1; then
      ip netns exec "$NS_PROXY" "$SIGNAL" ng --ng "$RELAY_PROXY_SIDE:2223" --calls 1 \
        --prefix "probe-$i" --phase remove >/dev/null 2>&1 || true
      return 0
    fi
    sleep 0.25
  done
  log "rtpengine did not come up:"
  tail -n 20 "$WORK/rtpengine.log" >&2
  stop_pid "$RTPENGINE_PID"
  return 1
}

# Sets up FLOWS calls through the mpx dispatcher (or rtpengine with ng), runs the loads, removes them.
relayed_runs() {  # PATH PROTOCOL FLOWS
  local path=$1 proto=$2 flows=$3 prefix="$1-$3" ports=$WORK/ports.txt setup
  if [[ $proto == mpx ]]; then
    setup=$("$SIGNAL" mpx --socket "$MODULE_SOCKET" --calls "$flows" --conns 8 --prefix "$prefix" \
      --caller "$CALLER:5000" --callee "$CALLEE:6000" --ports-out "$ports" \
      --offer-ports-out "$WORK/offer_ports.txt") || true
  else
    setup=$(ip netns exec "$NS_PROXY" "$SIGNAL" ng --ng "$RELAY_PROXY_SIDE:2223" --calls "$flows" \
      --conns 8 --prefix "$prefix" --caller "$CALLER:5000" --callee "$CALLEE:6000" \
      --ports-out "$ports" --offer-ports-out "$WORK/offer_ports.txt") || true
  fi
  echo "{\"path\":\"$path\",\"flows\":$flows,\"load\":\"setup\",\"signal\":${setup:-null}}" >>"$RAW"
  local got
  got=$(wc -l <"$ports")
  if ((got < flows * 95 / 100)); then
    note "$path, $flows flows: only $got of $flows calls were set up (${setup:0:300}); not measured"
    return 0
  elif ((got != flows)); then
    note "$path, $flows flows: $got of $flows calls were set up (${setup:0:300}); measured with $got flows"
  fi
  runs_for "$path" "$flows" "$NS_CALLEE" "$CALLEE:6000" --dst-file "$ports" --bind "$CALLER:5000"
  rm -f "$WORK/offer_ports.txt"
  if [[ $proto == mpx ]]; then
    local removed
    removed=$("$SIGNAL" mpx --socket "$MODULE_SOCKET" --calls "$flows" --conns 8 \
      --prefix "$prefix" --phase remove) || note "$path: removing the $flows calls failed: ${removed:0:400}"
  else
    ip netns exec "$NS_PROXY" "$SIGNAL" ng --ng "$RELAY_PROXY_SIDE:2223" --calls "$flows" \
      --conns 8 --prefix "$prefix" --phase remove >/dev/null ||
      note "$path: deleting the $flows calls failed"
  fi
  sleep 0.5
}

for path in "${PATHS[@]}"; do
  [[ -n $path ]] || continue
  log "path $path"
  case $path in
    veth)
      DAEMON_PID=
      for n in "${FLOWS[@]}"; do
        runs_for veth "$n" "$NS_RELAY" "$RELAY_CALLER_SIDE:6000" --dst "$RELAY_CALLER_SIDE:6000" \
          --bind "$CALLER:5000"
      done
      ;;
    forward)
      DAEMON_PID=
      for n in "${FLOWS[@]}"; do
        runs_for forward "$n" "$NS_CALLEE" "$CALLEE:6000" --dst "$CALLEE:6000" --bind "$CALLER:5000"
      done
      ;;
    conntrack | userspace | tc | xdp-native | xdp-generic)
      datapath=${path%%-*}
      mode=${path#xdp-}
      [[ $mode == "$path" ]] && mode=generic
      if ! start_relay "$datapath" "$mode"; then
        note "$path: the relay did not start (see the log above); not measured"
        continue
      fi
      for n in "${FLOWS[@]}"; do
        relayed_runs "$path" mpx "$n"
      done
      # The relay's own view (summary counters) before it stops.
      stop_pid "$RELAY_PID"
      ;;
    rtpengine)
      if ! start_rtpengine; then
        note "rtpengine: did not start; not measured"
        continue
      fi
      for n in "${FLOWS[@]}"; do
        relayed_runs rtpengine ng "$n"
      done
      stop_pid "$RTPENGINE_PID"
      ;;
    *) log "unknown path '$path' (known: ${PATH_IDS[*]})"; exit 2 ;;
  esac
done

DURATION=$(awk -v s="$T0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
python3 "$SRC/bench/datapath/summarize.py" --raw "$RAW" --notes "$NOTES" --quick "$QUICK" \
  --started "$STARTED" --duration "$DURATION" --fixed-pps "$FIXED_PPS" \
  --seconds "$SECONDS_PER_RUN" --out "$OUT/datapath.json"
log "wrote $OUT/datapath.json in ${DURATION}s"
