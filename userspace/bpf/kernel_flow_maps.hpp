// KernelFlowMaps: FlowMaps over the loaded BPF maps' file descriptors (libbpf's low-level bpf()
// wrappers). Does not own the descriptors: the loaded object (ProgramLoader) does.
#pragma once

#include "userspace/bpf/flow_maps.hpp"

namespace mpx::datapath::bpf {

class KernelFlowMaps final : public FlowMaps {
 public:
  KernelFlowMaps(int flows_fd, int stats_fd) : flows_fd_(flows_fd), stats_fd_(stats_fd) {}

  int update(const mpx_flow_key& key, const mpx_flow_value& value, std::uint64_t flags) override;
  int update_batch(std::span<const mpx_flow_key> keys, std::span<const mpx_flow_value> values,
                   std::uint64_t flags, std::uint32_t& done) override;
  int lookup(const mpx_flow_key& key, mpx_flow_value& value) const override;
  int lookup_and_erase(const mpx_flow_key& key, mpx_flow_value& value) override;
  int erase(const mpx_flow_key& key) override;
  int entries(std::vector<FlowEntry>& out) const override;
  int verdicts(std::vector<std::uint64_t>& out) const override;

 private:
  int flows_fd_;
  int stats_fd_;
};

}  // namespace mpx::datapath::bpf
