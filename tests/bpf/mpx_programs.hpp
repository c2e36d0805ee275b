// The mpx XDP and TC programs as test subjects: where their objects are (paths passed in by CMake
// from the MPX_BPF_OBJECT target property), their verdict for "pass", a per-process cache of the
// loaded objects, and a run that reports which verdict counters moved. Shared by every
// BPF_PROG_TEST_RUN suite of bpf/ (verdicts, flow lookup, forwarder).
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "bpf/mpx_shared.h"
#include "common/result.hpp"
#include "tests/bpf/loaded_bpf_object.hpp"

namespace mpx::test {

enum class Hook { xdp, tc };

struct HookProgram {
  std::string object_path;     // the .bpf.o built by bpf/CMakeLists.txt
  std::string program;         // the SEC function's name
  std::uint32_t pass_verdict;  // XDP_PASS or TC_ACT_OK
  std::uint32_t drop_verdict;  // XDP_DROP or TC_ACT_SHOT
};

std::string_view hook_name(Hook hook);
void PrintTo(Hook hook, std::ostream* out);  // gtest prints parameters by name
const HookProgram& hook_program(Hook hook);

// The object for hook, opened and loaded on first use and kept for the process (loading costs
// milliseconds; gtest_discover_tests runs each test in its own process anyway). Needs root.
mpx::Result<LoadedBpfObject*> loaded_object(Hook hook);

// "PASS_NO_FLOW" for MPX_STAT_PASS_NO_FLOW, etc.
std::string stat_name(std::uint32_t stat);

// Counters that changed between two reads of MPX_MAP_STATS, by stat_name, with the increase.
using CounterMoves = std::map<std::string, std::uint64_t>;
CounterMoves counter_moves(std::span<const std::uint64_t> before,
                           std::span<const std::uint64_t> after);

struct CountedRun {
  ProgRunResult run;
  CounterMoves moved;
};

// One BPF_PROG_TEST_RUN (repeat = 1) of hook's program over frame, with the counters read before
// and after.
// ifindex: see ProgRunOptions::ifindex.
mpx::Result<CountedRun> run_counted(Hook hook, std::span<const std::uint8_t> frame,
                                    std::uint32_t ifindex = 0);

}  // namespace mpx::test
