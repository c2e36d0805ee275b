#!/usr/bin/env bash
# mpx demo on a fresh Debian 12 machine (run as root from the checkout): installs what is missing,
# builds, and shows what mpx does today, on embedded defaults, inside a throw-away network lab.
# Everything it creates is removed on exit, also on failure or Ctrl-C.
#
# Today: a network lab, the dispatcher and the relay on an embedded configuration, one call set up
# on the module socket as the proxy would, RTP both ways handed to the kernel (conntrack), the
# live sessions and the call's statistics. Calls through Kamailio with sipp join this script with
# the end-to-end issue.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

say "installing missing Debian packages (scripts/install-deps.sh)"
scripts/install-deps.sh

build_dir=${MPX_BUILD_DIR:-build}
say "building mpx in ${build_dir}/"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target mpx-dispatcher mpx-relay mpxctl

lab="demo$$"
workdir=$(mktemp -d /tmp/mpx-demo.XXXXXX)
dispatcher_pid=
relay_pid=
cleanup() {
  [[ -n "$relay_pid" ]] && kill -TERM "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null || true
  [[ -n "$dispatcher_pid" ]] && kill -TERM "$dispatcher_pid" 2>/dev/null || true
  scripts/lab.sh down "$lab" >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM
in_ns() { local role=$1; shift; ip netns exec "mpx-${lab}-${role}" "$@"; }

say "network lab '$lab': caller 10.1.0.10 -- relay 203.0.113.1 -- callee 10.2.0.20, proxy 10.3.0.30"
scripts/lab.sh up "$lab"

say "embedded default configuration (MediaProxy's config.ini options, mpx datapath=conntrack)"
mkdir -p "$workdir/run"
tests/pki/make-test-pki.sh "$workdir/tls" >/dev/null
cat >"$workdir/config.ini" <<INI
[Relay]
dispatchers = 10.3.0.30
relay_ip = 203.0.113.1
port_range = 40000:40100
datapath = conntrack

[Dispatcher]
socket_path = dispatcher.sock
listen_management = 127.0.0.1:25061
management_use_tls = no
sip_proxy = none

[TLS]
certs_path = $workdir/tls
INI
cat "$workdir/config.ini"

say "starting mpx-dispatcher in the proxy namespace and mpx-relay in the relay namespace"
# Started by `ip netns exec` itself (it execs the daemon): $! is then the daemon's PID.
ip netns exec "mpx-${lab}-proxy" "$build_dir/dispatcher/mpx-dispatcher" --config-dir "$workdir" \
  --runtime-dir "$workdir/run" --no-fork >"$workdir/dispatcher.log" 2>&1 &
dispatcher_pid=$!
ip netns exec "mpx-${lab}-relay" "$build_dir/relay/mpx-relay" --config-dir "$workdir" \
  --runtime-dir "$workdir/relay-run" --no-fork >"$workdir/relay.log" 2>&1 &
relay_pid=$!
for _ in $(seq 100); do
  grep -q 'relay .* connected' "$workdir/dispatcher.log" 2>/dev/null && break
  sleep 0.1
done
grep -q 'relay .* connected' "$workdir/dispatcher.log" ||
  { cat "$workdir/dispatcher.log" "$workdir/relay.log"; exit 1; }
cat "$workdir/relay.log"

management() { printf '%s\r\nquit\r\n' "$1" | in_ns proxy socat -t 2 - TCP:127.0.0.1:25061; }
module() { printf '%s\r\n\r\n' "$1" | socat -t 2 - "UNIX-CONNECT:$workdir/run/dispatcher.sock"; }
call_headers=$'call_id: demo-call-1\r\nfrom_uri: alice@example.com\r\nto_uri: bob@example.com\r\nfrom_tag: alice-tag\r\nuser_agent: demo\r\nmedia_relay: \r\ndialog_id: 1:2'

say "the proxy's INVITE (caller SDP 10.1.0.10:30000): the relay answers its callee-side port"
callee_side=$(module $'update\r\ntype: request\r\ncseq: 1\r\nto_tag: \r\nsignaling_ip: 10.1.0.10\r\nmedia: audio:10.1.0.10:30000:sendrecv:ice=no\r\n'"$call_headers")
echo "$callee_side"
say "the callee's 200 OK (callee SDP 10.2.0.20:32000): the relay answers its caller-side port"
caller_side=$(module $'update\r\ntype: reply\r\ncseq: 1\r\nto_tag: bob-tag\r\nsignaling_ip: 10.1.0.10\r\nmedia: audio:10.2.0.20:32000:sendrecv:ice=no\r\n'"$call_headers")
echo "$caller_side"

say "RTP both ways (20 packets each, sent with socat); the relay latches, then hands the flow to conntrack"
# One file per packet, so that socat sends each as one datagram: RTP v2, PCMA, seq i, SSRC.
rtp_packet() {
  { printf '\x80\x08\x00%b\x00\x00\x00\x00%b' "\\x$(printf %02x "$1")" "$2"
    head -c 160 /dev/zero; } >"$workdir/rtp.bin"
}
for i in $(seq 1 20); do
  rtp_packet "$i" '\x11\x11\x11\x11'
  in_ns caller socat -u "OPEN:$workdir/rtp.bin" "UDP-SENDTO:203.0.113.1:${caller_side##* },sourceport=30000"
  rtp_packet "$i" '\x22\x22\x22\x22'
  in_ns callee socat -u "OPEN:$workdir/rtp.bin" "UDP-SENDTO:203.0.113.1:${callee_side##* },sourceport=32000"
  sleep 0.02
done
say "the kernel now forwards the call: one NAT conntrack entry with the relay's mark"
in_ns relay conntrack -L -p udp --mark 0x6d707831 2>/dev/null
say "live sessions and relay summary through the management interface"
management sessions
management summary

say "the proxy's remove: the call's statistics"
module $'remove\r\ncall_id: demo-call-1\r\nfrom_tag: alice-tag\r\nto_tag: bob-tag\r\ndialog_id: 1:2'
grep 'accounting' "$workdir/dispatcher.log" || true
echo "conntrack entries left: $(in_ns relay conntrack -L -p udp --mark 0x6d707831 2>/dev/null | wc -l)"

say "stopping the relay and the dispatcher (SIGTERM): nothing is left behind"
kill -TERM "$relay_pid"; wait "$relay_pid"; relay_pid=
kill -TERM "$dispatcher_pid"; wait "$dispatcher_pid"; dispatcher_pid=
tail -n 3 "$workdir/relay.log"
in_ns relay nft list tables
[[ ! -e "$workdir/run/dispatcher.sock" ]] && echo "module socket removed"

say "a broken option is refused with one clear line"
printf '[Relay]\nport_range = 40001:60000\n' >"$workdir/config.ini"
if "$build_dir/relay/mpx-relay" --config-dir "$workdir" --no-fork; then
  echo "unexpected: the broken configuration was accepted" >&2
  exit 1
fi

say "removing the lab"
scripts/lab.sh down "$lab"
trap - EXIT INT TERM
rm -rf "$workdir"
say "demo finished: a call through dispatcher and relay, forwarded by conntrack, nothing left behind"
