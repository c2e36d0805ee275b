#!/usr/bin/env bash
# mpx demo on a fresh Debian 12 machine (run as root from the checkout): installs what is missing,
# builds, and shows what mpx does today, on embedded defaults, inside a throw-away network lab.
# Everything it creates is removed on exit, also on failure or Ctrl-C.
#
# Today (foundation): both daemons start on the embedded configuration and validate it, and the
# network lab forwards media-like UDP between caller and callee through the relay namespace.
# Real calls through Kamailio, dispatcher and relay join this script with the end-to-end issue.
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
cleanup() {
  scripts/lab.sh down "$lab" >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

say "embedded default configuration (MediaProxy's config.ini options, mpx datapath=conntrack)"
cat >"$workdir/config.ini" <<'INI'
[Relay]
dispatchers = 10.3.0.30
relay_ip = 203.0.113.1
port_range = 40000:60000
datapath = conntrack

[Dispatcher]
socket_path = dispatcher.sock
listen = any
management_use_tls = yes
INI
cat "$workdir/config.ini"

say "starting the daemons on it (they validate their configuration; their services land with their issues)"
"$build_dir/dispatcher/mpx-dispatcher" --config-dir "$workdir" --runtime-dir "$workdir" --no-fork
"$build_dir/relay/mpx-relay" --config-dir "$workdir" --runtime-dir "$workdir" --no-fork

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
say "demo finished: built mpx, validated its configuration, forwarded through the lab, left nothing behind"
