#!/usr/bin/env bash
# Suite bpf_program: nanoseconds per packet of the mpx XDP and TC forwarders through
# BPF_PROG_TEST_RUN with 1, 10,000 and 100,000 flows installed (bench/bpf/program_bench.cpp),
# against a program that passes every packet at once (bench/bpf/baseline.c). Needs root; the
# scratch network namespace and the loaded programs live only as long as the process.
set -euo pipefail
: "${MPX_BUILD_DIR:?}" "${MPX_SOURCE_DIR:?}" "${MPX_BENCH_OUT:?}"
if [ "$(id -u)" -ne 0 ]; then
  echo "bpf_program: needs root (BPF_PROG_TEST_RUN, network namespace)" >&2
  exit 1
fi
exe=$MPX_BUILD_DIR/bench/mpx_bench_bpf_program
if [ ! -x "$exe" ]; then
  echo "bpf_program: $exe missing (it uses the BPF test fixtures: configure with MPX_BUILD_TESTS=ON)" >&2
  exit 1
fi
raw=$MPX_BENCH_OUT/bpf_program
mkdir -p "$raw"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$(date +%s.%N)
args=()
[ "${MPX_BENCH_QUICK:-0}" = 1 ] && args+=(--quick)
"$exe" "${args[@]}" > "$raw/measurements.out"
duration=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
python3 "$MPX_SOURCE_DIR/bench/bpf/to_suite.py" "$MPX_BENCH_OUT" "$started" "$duration" \
  "$raw/measurements.out"
