// KernelFlowMaps: the flow and verdict maps through bpf() (see header). libbpf >= 1.0 returns
// -errno directly from these wrappers.
#include "userspace/bpf/kernel_flow_maps.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>

namespace mpx::datapath::bpf {

int KernelFlowMaps::update(const mpx_flow_key& key, const mpx_flow_value& value,
                           std::uint64_t flags) {
  return bpf_map_update_elem(flows_fd_, &key, &value, flags);
}

int KernelFlowMaps::update_batch(std::span<const mpx_flow_key> keys,
                                 std::span<const mpx_flow_value> values, std::uint64_t flags,
                                 std::uint32_t& done) {
  done = 0;
  if (keys.size() != values.size()) {
    return -EINVAL;
  }
  if (keys.empty()) {
    return 0;
  }
  // Filled field by field: libbpf's LIBBPF_OPTS macro is not valid C++.
  bpf_map_batch_opts opts{};
  opts.sz = sizeof opts;
  opts.elem_flags = flags;
  auto count = static_cast<__u32>(keys.size());
  const int err = bpf_map_update_batch(flows_fd_, keys.data(), values.data(), &count, &opts);
  // On failure the kernel reports in count how many entries it wrote before the failing one,
  // but a request it refuses up front (EINVAL for flags) leaves count as passed in: an error
  // with every entry "done" is that case, and nothing was written.
  done = err != 0 && count >= keys.size() ? 0 : count;
  return err;
}

int KernelFlowMaps::lookup(const mpx_flow_key& key, mpx_flow_value& value) const {
  return bpf_map_lookup_elem(flows_fd_, &key, &value);
}

int KernelFlowMaps::lookup_and_erase(const mpx_flow_key& key, mpx_flow_value& value) {
  return bpf_map_lookup_and_delete_elem(flows_fd_, &key, &value);
}

int KernelFlowMaps::erase(const mpx_flow_key& key) {
  return bpf_map_delete_elem(flows_fd_, &key);
}

int KernelFlowMaps::entries(std::vector<FlowEntry>& out) const {
  out.clear();
  mpx_flow_key key{};
  mpx_flow_key next{};
  const mpx_flow_key* previous = nullptr;  // nullptr: start from the first key
  for (;;) {
    const int err = bpf_map_get_next_key(flows_fd_, previous, &next);
    if (err == -ENOENT) {
      return 0;
    }
    if (err != 0) {
      return err;
    }
    FlowEntry entry{next, {}};
    const int looked = bpf_map_lookup_elem(flows_fd_, &entry.key, &entry.value);
    if (looked == 0) {
      out.push_back(entry);
    } else if (looked != -ENOENT) {  // deleted meanwhile by someone else: skip it
      return looked;
    }
    key = next;
    previous = &key;
  }
}

int KernelFlowMaps::verdicts(std::vector<std::uint64_t>& out) const {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    return cpus < 0 ? cpus : -EINVAL;
  }
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus));
  out.assign(MPX_STAT_MAX, 0);
  for (std::uint32_t index = 0; index < MPX_STAT_MAX; ++index) {
    if (const int err = bpf_map_lookup_elem(stats_fd_, &index, per_cpu.data()); err != 0) {
      return err;
    }
    for (const std::uint64_t value : per_cpu) {
      out[index] += value;
    }
  }
  return 0;
}

}  // namespace mpx::datapath::bpf
