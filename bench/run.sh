#!/usr/bin/env bash
# bench/run.sh: the one command that runs the benchmarks (bench/README.md). Builds the bench
# targets into the build directory, runs every executable bench/suites/<name>.sh in name order
# (each writes <name>.json into the output directory, see bench/README.md "Suite contract"),
# then bench/report.py turns the JSON into results.md and results.png.
#
#   bench/run.sh [--quick] [--out DIR] [--only a,b] [--update-readme] [--build-dir DIR]
#                [--no-build]
#
# --quick          CI mode: proves the harness works, every suite bounded to about a minute.
# --out DIR        where the JSON, logs and reports go (default <build>/bench-results).
# --only a,b       run only these suites (names without .sh).
# --update-readme  replace the text between <!-- bench:begin --> and <!-- bench:end --> in
#                  README.md with results.md.
# --build-dir DIR  the build directory (default $MPX_BUILD_DIR, else <repo>/build, as
#                  scripts/test.sh); configured with -DMPX_BUILD_BENCH=ON when needed.
# --no-build       use the build directory as it is.
# A suite that fails (or overruns its time limit) is reported and the others still run; the exit
# status is then non-zero.
set -uo pipefail

source_dir=$(cd "$(dirname "$0")/.." && pwd)
# The suites' Python helpers must not leave __pycache__ directories in the checkout.
export PYTHONDONTWRITEBYTECODE=1
quick=0
out_dir=
only=
update_readme=0
build=1
build_dir=${MPX_BUILD_DIR:-$source_dir/build}

usage() {
  sed -n '/^#   bench/,/^# --no-build/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) [ $# -ge 2 ] || usage; out_dir=$2; shift ;;
    --only) [ $# -ge 2 ] || usage; only=$2; shift ;;
    --update-readme) update_readme=1 ;;
    --build-dir) [ $# -ge 2 ] || usage; build_dir=$2; shift ;;
    --no-build) build=0 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done

mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
out_dir=${out_dir:-$build_dir/bench-results}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

# The suites to run, in name order.
suites=()
for path in "$source_dir"/bench/suites/*.sh; do
  [ -x "$path" ] || continue
  name=$(basename "$path" .sh)
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then
    continue
  fi
  suites+=("$name")
done
if [ -n "$only" ]; then
  for wanted in ${only//,/ }; do
    if [[ " ${suites[*]} " != *" $wanted "* ]]; then
      echo "run.sh: no executable suite bench/suites/$wanted.sh" >&2
      exit 2
    fi
  done
fi
if [ ${#suites[@]} -eq 0 ]; then
  echo "run.sh: no suites to run" >&2
  exit 2
fi

if [ "$build" = 1 ]; then
  # Configure when the directory is new or was configured without the benchmarks.
  if [ ! -f "$build_dir/CMakeCache.txt" ] ||
     ! grep -q '^MPX_BUILD_BENCH:BOOL=ON' "$build_dir/CMakeCache.txt"; then
    echo "== configuring $build_dir (MPX_BUILD_BENCH=ON)"
    cmake -S "$source_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DMPX_BUILD_BENCH=ON || { echo "run.sh: configure failed" >&2; exit 1; }
  fi
  echo "== building the bench targets in $build_dir"
  # mpx_bench depends on every bench executable, the BPF objects, mpx-relay and mpx-dispatcher.
  cmake --build "$build_dir" --target mpx_bench -j "$(nproc)" ||
    { echo "run.sh: build failed" >&2; exit 1; }
fi

# Results of an earlier run in the same directory must not be reported as this run's.
rm -f "$out_dir"/*.json "$out_dir"/*.log "$out_dir"/results.md "$out_dir"/results.png \
      "$out_dir"/suites.tsv

# Each suite is bounded: quick mode promises about a minute per suite, full runs are long.
if [ "$quick" = 1 ]; then limit=${MPX_BENCH_SUITE_TIMEOUT:-180}; else limit=${MPX_BENCH_SUITE_TIMEOUT:-3600}; fi

failed=()
run_started=$(date +%s)
printf 'suite\texit\tseconds\n' > "$out_dir/suites.tsv"
for name in "${suites[@]}"; do
  echo "== suite $name (quick=$quick, limit ${limit}s)"
  started=$(date +%s.%N)
  # timeout signals its whole process group, so the limit ends the suite's children too; the
  # suite's EXIT trap still runs on the TERM sent first (namespaces and maps get removed).
  MPX_BENCH_QUICK=$quick MPX_BUILD_DIR=$build_dir MPX_SOURCE_DIR=$source_dir \
  MPX_BENCH_OUT=$out_dir \
    timeout --kill-after=30 "$limit" "$source_dir/bench/suites/$name.sh" \
      > >(tee "$out_dir/$name.log") 2>&1
  rc=$?
  wait  # the tee of the process substitution
  seconds=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  printf '%s\t%s\t%s\n' "$name" "$rc" "$seconds" >> "$out_dir/suites.tsv"
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && why="timed out after ${limit}s" || why="exit status $rc"
    echo "== suite $name FAILED ($why, see $out_dir/$name.log)" >&2
    failed+=("$name")
  elif [ ! -s "$out_dir/$name.json" ]; then
    echo "== suite $name FAILED (exit 0 but no $name.json)" >&2
    failed+=("$name")
  else
    echo "== suite $name done in ${seconds}s"
  fi
done

# Debian's interpreter has python3-matplotlib (scripts/install-deps.sh); a python3 earlier on PATH
# (pyenv, venv) may not.
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
report_args=("$out_dir")
[ "$update_readme" = 1 ] && report_args+=(--update-readme "$source_dir/README.md")
"$python" "$source_dir/bench/report.py" "${report_args[@]}" || failed+=("report.py")

echo "== $((${#suites[@]})) suites in $(( $(date +%s) - run_started ))s; results: $out_dir/results.md, $out_dir/results.png"
if [ ${#failed[@]} -gt 0 ]; then
  echo "== FAILED: ${failed[*]}" >&2
  exit 1
fi
