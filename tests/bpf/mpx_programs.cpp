// The mpx XDP and TC programs as test subjects (see mpx_programs.hpp).
#include "tests/bpf/mpx_programs.hpp"

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <optional>
#include <utility>

#ifndef MPX_BPF_XDP_OBJECT
#error "MPX_BPF_XDP_OBJECT (path of mpx_xdp.bpf.o) must be defined by tests/bpf/CMakeLists.txt"
#endif
#ifndef MPX_BPF_TC_OBJECT
#error "MPX_BPF_TC_OBJECT (path of mpx_tc.bpf.o) must be defined by tests/bpf/CMakeLists.txt"
#endif

namespace mpx::test {

std::string_view hook_name(Hook hook) { return hook == Hook::xdp ? "xdp" : "tc"; }

void PrintTo(Hook hook, std::ostream* out) { *out << hook_name(hook); }

const HookProgram& hook_program(Hook hook) {
  static const HookProgram xdp{MPX_BPF_XDP_OBJECT, "mpx_xdp", XDP_PASS, XDP_DROP};
  static const HookProgram tc{MPX_BPF_TC_OBJECT, "mpx_tc", TC_ACT_OK, TC_ACT_SHOT};
  return hook == Hook::xdp ? xdp : tc;
}

mpx::Result<LoadedBpfObject*> loaded_object(Hook hook) {
  static std::optional<LoadedBpfObject> xdp;
  static std::optional<LoadedBpfObject> tc;
  std::optional<LoadedBpfObject>& slot = hook == Hook::xdp ? xdp : tc;
  if (!slot) {
    auto loaded = LoadedBpfObject::load(hook_program(hook).object_path);
    if (!loaded) {
      return loaded.error();
    }
    slot.emplace(std::move(loaded).value());
  }
  return &*slot;
}

std::string stat_name(std::uint32_t stat) {
  switch (static_cast<mpx_stat>(stat)) {
    case MPX_STAT_PASS_NO_FLOW:
      return "PASS_NO_FLOW";
    case MPX_STAT_PASS_NOT_IPV4:
      return "PASS_NOT_IPV4";
    case MPX_STAT_PASS_NOT_UDP:
      return "PASS_NOT_UDP";
    case MPX_STAT_PASS_FRAGMENT:
      return "PASS_FRAGMENT";
    case MPX_STAT_PASS_IP_OPTIONS:
      return "PASS_IP_OPTIONS";
    case MPX_STAT_PASS_TRUNCATED:
      return "PASS_TRUNCATED";
    case MPX_STAT_PASS_MALFORMED:
      return "PASS_MALFORMED";
    case MPX_STAT_FORWARDED_TX:
      return "FORWARDED_TX";
    case MPX_STAT_FORWARDED_REDIRECT:
      return "FORWARDED_REDIRECT";
    case MPX_STAT_FORWARDED_REDIRECT_NEIGH:
      return "FORWARDED_REDIRECT_NEIGH";
    case MPX_STAT_PASS_VLAN:
      return "PASS_VLAN";
    case MPX_STAT_PASS_NO_NEIGH:
      return "PASS_NO_NEIGH";
    case MPX_STAT_PASS_FIB_NO_ROUTE:
      return "PASS_FIB_NO_ROUTE";
    case MPX_STAT_PASS_FIB_FWD_DISABLED:
      return "PASS_FIB_FWD_DISABLED";
    case MPX_STAT_PASS_FIB_FRAG_NEEDED:
      return "PASS_FIB_FRAG_NEEDED";
    case MPX_STAT_PASS_FIB_FAILED:
      return "PASS_FIB_FAILED";
    case MPX_STAT_PASS_EGRESS_MISMATCH:
      return "PASS_EGRESS_MISMATCH";
    case MPX_STAT_DROP_TTL_EXCEEDED:
      return "DROP_TTL_EXCEEDED";
    case MPX_STAT_MAX:
      break;
  }
  return "stat#" + std::to_string(stat);
}

CounterMoves counter_moves(std::span<const std::uint64_t> before,
                           std::span<const std::uint64_t> after) {
  CounterMoves moves;
  for (std::size_t i = 0; i < after.size(); ++i) {
    const std::uint64_t old_value = i < before.size() ? before[i] : 0;
    if (after[i] != old_value) {
      moves[stat_name(static_cast<std::uint32_t>(i))] = after[i] - old_value;
    }
  }
  return moves;
}

mpx::Result<CountedRun> run_counted(Hook hook, std::span<const std::uint8_t> frame,
                                    std::uint32_t ifindex) {
  auto object = loaded_object(hook);
  if (!object) {
    return object.error();
  }
  LoadedBpfObject& loaded = *object.value();
  auto before = loaded.percpu_u64_sums(MPX_MAP_STATS);
  if (!before) {
    return before.error();
  }
  auto run = loaded.run(hook_program(hook).program, frame, {.repeat = 1, .ifindex = ifindex});
  if (!run) {
    return run.error();
  }
  auto after = loaded.percpu_u64_sums(MPX_MAP_STATS);
  if (!after) {
    return after.error();
  }
  return CountedRun{std::move(run).value(), counter_moves(before.value(), after.value())};
}

}  // namespace mpx::test
