#!/usr/bin/env bash
# Suite micro: the Google Benchmark executables of bench/ (protocol parsers, relay session logic,
# port pool) with --benchmark_format=json, converted by bench/micro/to_suite.py into micro.json.
# No root, no namespaces. Quick mode: 10 ms per benchmark instead of 0.5 s.
set -euo pipefail
: "${MPX_BUILD_DIR:?}" "${MPX_SOURCE_DIR:?}" "${MPX_BENCH_OUT:?}"
quick=${MPX_BENCH_QUICK:-0}
raw=$MPX_BENCH_OUT/micro
mkdir -p "$raw"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$(date +%s.%N)
if [ "$quick" = 1 ]; then min_time=0.01; else min_time=0.5; fi

for exe in protocol session; do
  "$MPX_BUILD_DIR/bench/mpx_bench_$exe" --benchmark_min_time="$min_time" \
      --benchmark_out="$raw/$exe.gbench" --benchmark_out_format=json
done

duration=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
python3 "$MPX_SOURCE_DIR/bench/micro/to_suite.py" "$MPX_BENCH_OUT" "$started" "$duration" \
  "Protocol parsers (dispatcher hot path)=$raw/protocol.gbench" \
  "Relay session logic and port pool=$raw/session.gbench"
