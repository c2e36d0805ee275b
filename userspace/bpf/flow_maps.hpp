// FlowMaps: the two maps a BpfDatapath drives (the flow hash map and the per-CPU verdict
// counters), behind one interface so the datapath logic runs unchanged over the kernel's maps
// (KernelFlowMaps, libbpf on map fds) or over in-memory maps (MemoryFlowMaps, the testing mode).
// Every operation returns 0 or a negative errno, as the bpf() syscall does, so both
// implementations produce the same errors (EEXIST, ENOENT, E2BIG when the map is full).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "userspace/bpf/flow_entries.hpp"

namespace mpx::datapath::bpf {

class FlowMaps {
 public:
  virtual ~FlowMaps() = default;

  // flags: BPF_ANY / BPF_NOEXIST / BPF_EXIST.
  virtual int update(const mpx_flow_key& key, const mpx_flow_value& value,
                     std::uint64_t flags) = 0;
  // Stops at the first failing entry; `done` tells how many entries were written before it.
  virtual int update_batch(std::span<const mpx_flow_key> keys,
                           std::span<const mpx_flow_value> values, std::uint64_t flags,
                           std::uint32_t& done) = 0;
  virtual int lookup(const mpx_flow_key& key, mpx_flow_value& value) const = 0;
  // Atomic read and delete: no packet counted between the two is lost.
  virtual int lookup_and_erase(const mpx_flow_key& key, mpx_flow_value& value) = 0;
  virtual int erase(const mpx_flow_key& key) = 0;
  // Every entry (used once, at open, to adopt what a previous instance left).
  virtual int entries(std::vector<FlowEntry>& out) const = 0;
  // The verdict counters, each summed over CPUs, indexed by enum mpx_stat.
  virtual int verdicts(std::vector<std::uint64_t>& out) const = 0;
};

}  // namespace mpx::datapath::bpf
