#!/usr/bin/env bash
# bench/suites/attack.sh: what an off-path attacker gets out of the relay (bench/README.md,
# "attack"). Runs the adversarial scenarios of tests/integration/attack/ (the attack_tests
# binary: each test makes its own attack lab, dispatcher and mpx-relay, sprays or hijacks, and
# writes its figures to MPX_ATTACK_FIGURES_DIR) twice: with the product's default latching
# (strict) and with MPX_ATTACK_LATCHING=first_packet, MediaProxy's behaviour, as the baseline.
# The strict run's assertions count: a failing scenario is noted in the JSON and makes the suite
# exit 1 after writing it; the baseline's assertions are expected to fail and are ignored.
# bench/attack/summarize.py turns the figures (raw files under $MPX_BENCH_OUT/attack/) into
# attack.json. Contract: bench/README.md ("Suite contract"). Needs root; the tests remove their
# labs themselves, and on a timeout or failure this script ends the test process it started (and
# the relays it started, by its process group) and removes the labs named after its PID.
#
# Full mode: every scenario on every datapath, MPX_ATTACK_SCALE=3. Quick mode: scale 1, the
# userspace datapath, three scenarios.
# Tunables (environment): MPX_BENCH_ATTACK_DATAPATHS (comma list), MPX_BENCH_ATTACK_SCENARIOS
# (comma list of test fixtures without "Test": RingingSpray, LateEndpoints, SsrcHijack,
# NatSignalingIp, NatUnsignalled, WebRtcNat), MPX_BENCH_ATTACK_SCALE, MPX_BENCH_ATTACK_RUN_LIMIT
# (seconds one run of the binary may take).
set -Eeuo pipefail

QUICK=${MPX_BENCH_QUICK:-0}
BUILD=${MPX_BUILD_DIR:?MPX_BUILD_DIR is not set}
SRC=${MPX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${MPX_BENCH_OUT:?MPX_BENCH_OUT is not set}
mkdir -p "$OUT"

ATTACK_BIN=$BUILD/tests/integration/attack/attack_tests
RELAY_BIN=$BUILD/relay/mpx-relay
LAB_SH=$SRC/scripts/lab.sh
for f in "$ATTACK_BIN" "$RELAY_BIN"; do
  [[ -x $f ]] || { echo "attack: missing $f (build the mpx_bench target)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "attack: needs root (network namespaces)" >&2; exit 1; }

ALL_SCENARIOS=RingingSpray,LateEndpoints,SsrcHijack,NatSignalingIp,NatUnsignalled,WebRtcNat
if [[ $QUICK == 1 ]]; then
  DEFAULT_DATAPATHS=userspace
  DEFAULT_SCENARIOS=RingingSpray,SsrcHijack,NatSignalingIp
  DEFAULT_SCALE=1
  DEFAULT_LIMIT=80
else
  DEFAULT_DATAPATHS=conntrack,userspace,xdp,xdp_native,tc
  DEFAULT_SCENARIOS=$ALL_SCENARIOS
  DEFAULT_SCALE=3
  DEFAULT_LIMIT=1500
fi
IFS=, read -r -a DATAPATHS <<<"${MPX_BENCH_ATTACK_DATAPATHS:-$DEFAULT_DATAPATHS}"
IFS=, read -r -a SCENARIOS <<<"${MPX_BENCH_ATTACK_SCENARIOS:-$DEFAULT_SCENARIOS}"
SCALE=${MPX_BENCH_ATTACK_SCALE:-$DEFAULT_SCALE}
RUN_LIMIT=${MPX_BENCH_ATTACK_RUN_LIMIT:-$DEFAULT_LIMIT}

# The scenario tests are value-parameterized: Datapaths/<Scenario>Test.<Name>/<datapath>.
FILTER=
for s in "${SCENARIOS[@]}"; do
  for d in "${DATAPATHS[@]}"; do
    FILTER+="${FILTER:+:}Datapaths/${s}Test.*/$d"
  done
done

RAW=$OUT/attack
rm -rf "$RAW"
mkdir -p "$RAW"
# The tests the filter selects, so that a scenario a run did not reach is reported as such.
"$ATTACK_BIN" --gtest_list_tests --gtest_filter="$FILTER" >"$RAW/tests.txt"
NOTES=$RAW/notes.txt
: >"$NOTES"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
T0=$(date +%s.%N)
TEST_PID=

log() { echo "attack: $*" >&2; }
note() { echo "$*" >>"$NOTES"; log "note: $*"; }

# Ends the running test binary with every process it started (its process group: the relays),
# then removes the labs it left (named <base>-<its pid>-<n> by NetnsLab).
stop_test() {
  [[ -n $TEST_PID ]] || return 0
  kill -TERM -- "-$TEST_PID" 2>/dev/null || true
  for _ in $(seq 100); do pgrep -g "$TEST_PID" >/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$TEST_PID" 2>/dev/null || true
  wait "$TEST_PID" 2>/dev/null || true
  for _ in $(seq 50); do pgrep -g "$TEST_PID" >/dev/null || break; sleep 0.1; done
  local lab
  for lab in $("$LAB_SH" list 2>/dev/null | grep -E -- "-$TEST_PID-[0-9]+$" || true); do
    "$LAB_SH" down "$lab" >/dev/null 2>&1 || log "lab.sh down $lab failed; run it by hand"
  done
  TEST_PID=
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_test
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_scenarios LATCHING: one run of the binary (LATCHING "strict" is the product default, no
# override); its figures go to $RAW/LATCHING, gtest's report to $RAW/LATCHING.gtest.json. Sets RC.
run_scenarios() {
  local latching=$1 dir=$RAW/$1 override=
  [[ $latching == strict ]] || override=$latching
  mkdir -p "$dir"
  log "run with latching $latching: ${SCENARIOS[*]} on ${DATAPATHS[*]} (scale $SCALE)"
  # setsid: the binary leads its own process group (the relays it spawns join it), so that
  # stop_test can end exactly what this run started.
  env -u MPX_ATTACK_LATCHING ${override:+MPX_ATTACK_LATCHING=$override} \
    MPX_ATTACK_FIGURES_DIR="$dir" MPX_ATTACK_SCALE="$SCALE" \
    setsid "$ATTACK_BIN" --gtest_filter="$FILTER" --gtest_output="json:$RAW/$latching.gtest.json" \
    >"$RAW/$latching.log" 2>&1 &
  TEST_PID=$!
  local waited=0
  while kill -0 "$TEST_PID" 2>/dev/null && ((waited < RUN_LIMIT * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$TEST_PID" 2>/dev/null; then
    note "the $latching run did not finish within ${RUN_LIMIT}s: stopped," \
      "its remaining scenarios are missing"
    stop_test
    RC=124
    return
  fi
  RC=0
  wait "$TEST_PID" || RC=$?
  TEST_PID=
  # Each test's verdict line, for the suite's log.
  grep -E '^\[ +(OK|FAILED|SKIPPED) +\] .* \([0-9]+ ms\)$' "$RAW/$latching.log" |
    sed 's/^/attack:   /' >&2 || true
}

run_scenarios strict
STRICT_RC=$RC
run_scenarios first_packet
BASELINE_RC=$RC

DURATION=$(awk -v s="$T0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
python3 "$SRC/bench/attack/summarize.py" --raw "$RAW" --notes "$NOTES" --quick "$QUICK" \
  --started "$STARTED" --duration "$DURATION" --scale "$SCALE" \
  --datapaths "$(IFS=,; echo "${DATAPATHS[*]}")" \
  --strict-rc "$STRICT_RC" --baseline-rc "$BASELINE_RC" --out "$OUT/attack.json"
log "wrote $OUT/attack.json in ${DURATION}s"
if ((STRICT_RC != 0)); then
  log "the strict run failed (exit status $STRICT_RC): see $RAW/strict.log"
  exit 1
fi
