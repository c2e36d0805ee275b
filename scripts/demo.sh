#!/usr/bin/env bash
# mpx demo on a fresh Debian 12 machine (run as root from the checkout): installs what is missing,
# builds, and shows what mpx does today, on embedded defaults, inside a throw-away network lab.
# Everything it creates is removed on exit, also on failure or Ctrl-C.
#
# Today: the dispatcher runs on the embedded configuration (module socket, management interface,
# clean stop), the relay validates it, and the network lab routes traffic between caller and
# callee through the relay namespace. Real calls through Kamailio, dispatcher and relay join this
# script with the end-to-end issue.
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
cleanup() {
  [[ -n "$dispatcher_pid" ]] && kill -TERM "$dispatcher_pid" 2>/dev/null || true
  scripts/lab.sh down "$lab" >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

say "embedded default configuration (MediaProxy's config.ini options, mpx datapath=conntrack)"
mkdir -p "$workdir/run"
tests/pki/make-test-pki.sh "$workdir/tls" >/dev/null
cat >"$workdir/config.ini" <<INI
[Relay]
dispatchers = 10.3.0.30
relay_ip = 203.0.113.1
port_range = 40000:60000
datapath = conntrack

[Dispatcher]
socket_path = dispatcher.sock
listen = 127.0.0.1:25060
listen_management = 127.0.0.1:25061
management_use_tls = no

[TLS]
certs_path = $workdir/tls
INI
cat "$workdir/config.ini"

say "the relay validates its configuration (its services land with the relay issue)"
"$build_dir/relay/mpx-relay" --config-dir "$workdir" --runtime-dir "$workdir/run" --no-fork

say "starting mpx-dispatcher (test certificates made with OpenSSL for the demo)"
"$build_dir/dispatcher/mpx-dispatcher" --config-dir "$workdir" --runtime-dir "$workdir/run" \
  --no-fork >"$workdir/dispatcher.log" 2>&1 &
dispatcher_pid=$!
for _ in $(seq 50); do
  [[ -S "$workdir/run/dispatcher.sock" ]] && break
  sleep 0.1
done
[[ -S "$workdir/run/dispatcher.sock" ]] || { cat "$workdir/dispatcher.log"; exit 1; }
ls -l "$workdir/run/dispatcher.sock"

say "management interface (plain TCP here): version and summary (no relay connected yet)"
exec 3<>/dev/tcp/127.0.0.1/25061
printf 'version\r\nsummary\r\nquit\r\n' >&3
cat <&3
exec 3<&-

say "the INVITE OpenSIPS 3.4 sent (recorded bytes) on the module socket: no relay, so 'error' in budget"
socat -t 2 - "UNIX-CONNECT:$workdir/run/dispatcher.sock" \
  <tests/unit/protocol/testdata/opensips-3.4/engage_media_proxy/1-INVITE-update-request.req

say "stopping the dispatcher (SIGTERM): it removes its socket"
kill -TERM "$dispatcher_pid"
wait "$dispatcher_pid"
cat "$workdir/dispatcher.log"
[[ ! -e "$workdir/run/dispatcher.sock" ]] && echo "socket removed"

say "a broken option is refused with one clear line"
printf '[Relay]\nport_range = 40001:60000\n' >"$workdir/config.ini"
if "$build_dir/relay/mpx-relay" --config-dir "$workdir" --no-fork; then
  echo "unexpected: the broken configuration was accepted" >&2
  exit 1
fi

say "network lab '$lab': caller -- relay -- callee (plus the proxy namespace)"
scripts/lab.sh up "$lab"
scripts/lab.sh status "$lab"

say "ICMP echo from the caller (10.1.0.10) to the callee (10.2.0.20), routed by the relay namespace"
ip netns exec "mpx-${lab}-caller" ping -c 3 -i 0.2 -W 1 10.2.0.20

say "removing the lab"
scripts/lab.sh down "$lab"
trap - EXIT INT TERM
rm -rf "$workdir"
say "demo finished: built mpx, ran the dispatcher, validated the relay, routed through the lab, left nothing behind"
