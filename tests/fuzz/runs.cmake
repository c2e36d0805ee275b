# Main-build glue for the fuzzers: builds tests/fuzz/ with clang++ as an ExternalProject and
# registers one bounded ctest run per target (label unit;fuzz). Seeds come from
# tests/fuzz/corpus/<target>/ when present.
if(NOT MPX_BUILD_FUZZERS)
  return()
endif()
find_program(MPX_CLANGXX NAMES clang++-14 clang++)
find_program(MPX_CLANGC NAMES clang-14 clang)
if(NOT MPX_CLANGXX)
  message(WARNING "clang++ not found: fuzzers are not built (scripts/install-deps.sh installs it)")
  return()
endif()

include(ExternalProject)
set(fuzz_bin ${CMAKE_BINARY_DIR}/fuzz)
ExternalProject_Add(mpx_fuzzers
  SOURCE_DIR ${PROJECT_SOURCE_DIR}/tests/fuzz
  BINARY_DIR ${fuzz_bin}
  CMAKE_ARGS -DCMAKE_CXX_COMPILER=${MPX_CLANGXX} -DCMAKE_C_COMPILER=${MPX_CLANGC}
             -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPX_SOURCE_DIR=${PROJECT_SOURCE_DIR}
  INSTALL_COMMAND ""
  BUILD_ALWAYS TRUE
  USES_TERMINAL_BUILD TRUE)

set(MPX_FUZZ_RUNS 20000 CACHE STRING "libFuzzer -runs for each fuzz target under ctest")
file(GLOB fuzz_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_*.cpp)
foreach(src ${fuzz_sources})
  get_filename_component(name ${src} NAME_WE)
  set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  set(work ${CMAKE_BINARY_DIR}/fuzz-work/${name})
  set(seed_args)
  if(EXISTS ${corpus})
    set(seed_args ${corpus})
  endif()
  # -max_total_time bounds the run even if -runs is slow on a loaded machine.
  add_test(NAME fuzz.${name}
           COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                   ${fuzz_bin}/${name} -runs=${MPX_FUZZ_RUNS} -max_total_time=120
                   -max_len=20000 -timeout=10 -artifact_prefix=${work}/ ${work}/corpus ${seed_args})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS "unit;fuzz" TIMEOUT 300)
  file(MAKE_DIRECTORY ${work}/corpus)
endforeach()
