# bench.quick (label bench): proves the benchmark harness works, as CI runs it: bench/run.sh
# --quick into a scratch directory, then tests/bench/check_quick.py asserts that every suite
# exited 0 and wrote a valid <suite>.json with at least one non-empty table, and that results.md
# and results.png exist. Figures are never asserted. Needs root (suites use namespaces and BPF):
# skipped without it, except under CI=true where that is a failure.
if(NOT MPX_BUILD_BENCH)
  return()
endif()
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME bench.quick
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/bench/check_quick.py
                 --run ${PROJECT_SOURCE_DIR}/bench/run.sh
                 --build-dir ${CMAKE_BINARY_DIR}
                 --out ${CMAKE_BINARY_DIR}/bench-quick)
set_tests_properties(bench.quick PROPERTIES LABELS "bench" RUN_SERIAL TRUE TIMEOUT 900
                     SKIP_RETURN_CODE 77)
