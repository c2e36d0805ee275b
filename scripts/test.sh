#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test through ctest
# (labels: unit, bpf, integration, e2e, bench; fuzz runs carry unit;fuzz). Ends with ctest's
# summary.
# Environment: MPX_BUILD_DIR (default build), MPX_SANITIZE=ON for an ASan+UBSan build,
# CTEST_ARGS for extra ctest arguments (e.g. "-L unit").
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build_dir=${MPX_BUILD_DIR:-build}
jobs=$(nproc)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMPX_SANITIZE="${MPX_SANITIZE:-OFF}"
cmake --build "$build_dir" -j "$jobs"

# shellcheck disable=SC2086
exec ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" ${CTEST_ARGS:-}
