#!/usr/bin/env bash
# mpx demo on a fresh Debian 12 machine (run as root from the checkout): installs what is missing,
# builds, and runs real SIP calls through the production chain inside a throw-away network lab:
#
#   sipp caller 10.1.0.10 --SIP--> Kamailio 10.3.0.30 (mediaproxy module) --SIP--> sipp callee 10.2.0.20
#                                     | module socket
#                                  mpx-dispatcher --TLS--> mpx-relay 203.0.113.1 (conntrack datapath)
#   RTP: caller <--> relay <--> callee
#
# The dispatcher and the relay run on embedded defaults (a few lines of config.ini: where the
# dispatcher is, the relay's address and a small port range, SQLite accounting). Kamailio's config and the sipp
# scenarios are the end-to-end test's (tests/e2e/kamailio.cfg.in, tests/e2e/scenarios/). While
# the calls run, `mpxctl sessions` shows them; afterwards the relay summary and the accounting
# records. Everything it creates is removed on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

calls=${MPX_DEMO_CALLS:-3}
say() { printf '\n==> %s\n' "$*"; }

say "installing missing Debian packages (scripts/install-deps.sh)"
scripts/install-deps.sh

build_dir=${MPX_BUILD_DIR:-build}
say "building mpx in ${build_dir}/"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target mpx-dispatcher mpx-relay mpxctl
build_dir=$(cd "$build_dir" && pwd)
mpxctl_bin=$build_dir/tools/mpxctl

lab="demo$$"
workdir=$(mktemp -d /tmp/mpx-demo.XXXXXX)
pids=()  # every process we started, stopped in reverse order by PID
kamailio_pid=
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$? i workers=
  set +e
  # Kamailio's workers are children of its main process: SIGTERM to the main process ends them;
  # they are SIGKILLed by PID only if the main process had to be killed.
  [[ -n $kamailio_pid ]] && workers=$(ps -o pid= --ppid "$kamailio_pid" 2>/dev/null)
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  for w in $workers; do kill -KILL "$w" 2>/dev/null; done
  scripts/lab.sh down "$lab" >/dev/null 2>&1
  rm -rf "$workdir"
  if ((rc != 0)); then echo "demo failed (exit $rc); everything it started was removed" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
in_ns() { local role=$1; shift; ip netns exec "mpx-${lab}-${role}" "$@"; }

say "network lab '$lab': caller 10.1.0.10, callee 10.2.0.20, proxy 10.3.0.30, relay 203.0.113.1"
scripts/lab.sh up "$lab"

say "configuration: embedded defaults plus these lines (MediaProxy's config.ini format)"
mkdir -p "$workdir/run" "$workdir/relay-run" "$workdir/kamailio" "$workdir/sipp"
tests/pki/make-test-pki.sh "$workdir/tls" >/dev/null
cat >"$workdir/config.ini" <<INI
[Relay]
dispatchers = 10.3.0.30
relay_ip = 203.0.113.1
; a small range: the default (40000:60000) needs an open-file limit of about 21000
port_range = 40000:40400

[Dispatcher]
accounting = database
sip_proxy = kamailio

[Kamailio]
socket_path = $workdir/kamailio/kamailio_rpc.sock

[TLS]
certs_path = $workdir/tls
INI
cat "$workdir/config.ini"
echo "(datapath = conntrack, SQLite accounting in the runtime directory, management over TLS)"

say "starting mpx-dispatcher (proxy namespace) and mpx-relay (relay namespace)"
# `ip netns exec` execs the daemon: $! is the daemon's PID.
ip netns exec "mpx-${lab}-proxy" "$build_dir/dispatcher/mpx-dispatcher" --config-dir "$workdir" \
  --runtime-dir "$workdir/run" --no-fork >"$workdir/dispatcher.log" 2>&1 &
pids+=($!)
# The relay starts once the dispatcher listens (else its first connection fails and it retries
# only after reconnect_delay, 10 s).
for _ in $(seq 100); do
  grep -q 'serving the proxy module' "$workdir/dispatcher.log" 2>/dev/null && break
  sleep 0.1
done
ip netns exec "mpx-${lab}-relay" "$build_dir/relay/mpx-relay" --config-dir "$workdir" \
  --runtime-dir "$workdir/relay-run" --no-fork >"$workdir/relay.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  grep -q 'relay .* connected' "$workdir/dispatcher.log" 2>/dev/null && break
  sleep 0.1
done
grep -q 'relay .* connected' "$workdir/dispatcher.log" ||
  { cat "$workdir/dispatcher.log" "$workdir/relay.log"; exit 1; }
grep -h 'running\|connected\|accounting to' "$workdir/relay.log" "$workdir/dispatcher.log"

say "starting Kamailio 5.6 on 10.3.0.30:5060 (mediaproxy + dialog + jsonrpcs; tests/e2e/kamailio.cfg.in)"
sed -e "s#@PROXY_IP@#10.3.0.30#g; s#@CALLEE_IP@#10.2.0.20#g" \
  -e "s#@MODULE_SOCKET@#$workdir/run/dispatcher.sock#; s#@RUN_DIR@#$workdir/kamailio#" \
  -e "s#@RPC_SOCKET@#$workdir/kamailio/kamailio_rpc.sock#" \
  tests/e2e/kamailio.cfg.in >"$workdir/kamailio/kamailio.cfg"
ip netns exec "mpx-${lab}-proxy" kamailio -f "$workdir/kamailio/kamailio.cfg" -DD -E \
  -Y "$workdir/kamailio" -P "$workdir/kamailio/kamailio.pid" -m 64 -M 8 \
  >"$workdir/kamailio.log" 2>&1 &
kamailio_pid=$!
pids+=("$kamailio_pid")
for _ in $(seq 100); do [[ -S $workdir/kamailio/kamailio_rpc.sock ]] && break; sleep 0.1; done
[[ -S $workdir/kamailio/kamailio_rpc.sock ]] || { cat "$workdir/kamailio.log"; exit 1; }
sleep 0.5
echo "Kamailio is up (PID $kamailio_pid)"

say "$calls concurrent calls with sipp: 7 s of G.711 RTP each way (sipp's g711a.pcap)"
for f in uas_call uac_call; do
  sed "s#@PCAP@#/usr/share/sip-tester/g711a.pcap#" "tests/e2e/scenarios/$f.xml" >"$workdir/sipp/$f.xml"
done
sipp_common=(-p 5060 -m "$calls" -timeout 60s -timeout_error -nostdin -trace_stat -trace_logs)
(cd "$workdir/sipp" && exec ip netns exec "mpx-${lab}-callee" sipp -sf uas_call.xml \
  -i 10.2.0.20 -mi 10.2.0.20 -mp 6000 "${sipp_common[@]}" >uas.out 2>&1) &
uas_pid=$!
pids+=("$uas_pid")
sleep 0.3
# engage_media_proxy() mode (the Request-URI user picks the mode in kamailio.cfg).
(cd "$workdir/sipp" && exec ip netns exec "mpx-${lab}-caller" sipp -sf uac_call.xml \
  -s engage-demo -i 10.1.0.10 -mi 10.1.0.10 -mp 5000 -l "$calls" -r 10 -d 8000 \
  "${sipp_common[@]}" 10.3.0.30:5060 >uac.out 2>&1) &
uac_pid=$!
pids+=("$uac_pid")

mpxctl() { in_ns proxy "$mpxctl_bin" --tls --certs-dir "$workdir/tls" "$@"; }
sleep 4
say "live sessions while the calls run (mpxctl sessions)"
mpxctl sessions
say "relay summary (mpxctl summary)"
mpxctl summary

say "waiting for the calls to end (the callers hang up after 8 s)"
uac_rc=0 uas_rc=0
wait "$uac_pid" || uac_rc=$?
wait "$uas_pid" || uas_rc=$?
echo "sipp caller exit status $uac_rc, callee $uas_rc (0: all $calls calls succeeded)"
grep -h 'SDP points at the relay' "$workdir"/sipp/*_logs.log | sort | uniq -c
if ((uac_rc != 0 || uas_rc != 0)); then
  tail -n 20 "$workdir"/sipp/*.out "$workdir/kamailio.log" "$workdir/dispatcher.log"
  exit 1
fi

say "the calls' statistics from the accounting database (SQLite, table media_sessions)"
db=$workdir/run/mpx-accounting.sqlite
for _ in $(seq 50); do
  [[ -f $db ]] && (($(sqlite3 "$db" 'SELECT COUNT(*) FROM media_sessions' 2>/dev/null || echo 0) >= calls)) && break
  sleep 0.1
done
sqlite3 -header -column "$db" "
  SELECT call_id,
         json_extract(info, '\$.duration') AS seconds,
         json_extract(info, '\$.streams[0].media_type') AS media,
         json_extract(info, '\$.streams[0].caller_packets') AS caller_packets,
         json_extract(info, '\$.streams[0].callee_packets') AS callee_packets,
         json_extract(info, '\$.streams[0].caller_bytes') AS caller_bytes,
         json_extract(info, '\$.streams[0].callee_bytes') AS callee_bytes,
         json_extract(info, '\$.streams[0].status') AS status
  FROM media_sessions ORDER BY id"
echo "sessions still listed: $(mpxctl --json sessions)"
echo "relay conntrack entries left: $(in_ns relay conntrack -L -p udp --mark 0x6d707831 2>/dev/null | wc -l)"

say "stopping Kamailio, the relay and the dispatcher (SIGTERM) and removing the lab"
trap - EXIT
started=$(IFS=,; echo "${pids[*]},$(ps -o pid= --ppid "$kamailio_pid" | tr -s ' \n' ',')")
cleanup
pids=()
echo "namespaces left: $(ip netns list | grep -c "mpx-${lab}-" || true)"
echo "processes left: $(ps -o pid= -p "${started%,}" | wc -l) (of the $(tr ',' '\n' <<<"${started%,}" | grep -c .) started: daemons, Kamailio and its workers, sipp)"
say "demo finished: $calls calls through Kamailio, mpx-dispatcher and mpx-relay; nothing left behind"
