#!/usr/bin/env bash
# Suite flow_programming: flows installed and removed per second by the conntrack datapath
# (batched netlink) and the BPF datapath (batched map updates into pinned maps), in batches of
# 1, 64 and 1024 flows, each against the bare kernel interface as baseline
# (bench/flow/flow_programming_bench.cpp). Creates a network namespace (with a veth pair
# for the XDP attachment) and a bpffs mount for the pins; removes both on exit. Needs root.
set -euo pipefail
: "${MPX_BUILD_DIR:?}" "${MPX_SOURCE_DIR:?}" "${MPX_BENCH_OUT:?}"
if [ "$(id -u)" -ne 0 ]; then
  echo "flow_programming: needs root (network namespace, conntrack, BPF)" >&2
  exit 1
fi
args=()
[ "${MPX_BENCH_QUICK:-0}" = 1 ] && args+=(--quick)
raw=$MPX_BENCH_OUT/flow_programming
mkdir -p "$raw"
ns=mpx-bench-flow-$$
pins=$(mktemp -d /tmp/mpx-bench-bpffs.XXXXXX)
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  umount "$pins" 2>/dev/null || true
  rm -rf "$pins"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$(date +%s.%N)
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
ip -n "$ns" link add bench0 type veth peer name bench1
ip -n "$ns" link set bench0 up
ip -n "$ns" link set bench1 up
mount -t bpf bpf "$pins"
ip netns exec "$ns" "$MPX_BUILD_DIR/bench/mpx_bench_flow" --interface bench0 \
  --pin-dir "$pins/mpx" "${args[@]}" > "$raw/measurements.out"
duration=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
python3 "$MPX_SOURCE_DIR/bench/flow/to_suite.py" "$MPX_BENCH_OUT" "$started" "$duration" \
  "$raw/measurements.out"
