#!/usr/bin/env bash
# Suite scale: RSS and CPU of mpx-relay and mpx-dispatcher at 0, 1,000 and 10,000 live streams
# and the cost of the relay's timeout sweep (bench/scale/run_scale.py). Needs root: runs both
# daemons in a scratch network namespace, removed on exit.
set -euo pipefail
: "${MPX_BUILD_DIR:?}" "${MPX_SOURCE_DIR:?}" "${MPX_BENCH_OUT:?}"
if [ "$(id -u)" -ne 0 ]; then
  echo "scale: needs root (network namespace)" >&2
  exit 1
fi
args=()
[ "${MPX_BENCH_QUICK:-0}" = 1 ] && args+=(--quick)
exec python3 "$MPX_SOURCE_DIR/bench/scale/run_scale.py" "$MPX_BENCH_OUT" "$MPX_BUILD_DIR" \
  "$MPX_SOURCE_DIR" "${args[@]}"
