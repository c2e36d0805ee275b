// MemoryFlowMaps: the testing mode's maps (Katran's "testing" mode): std::map in place of the BPF
// hash map, with the same capacity limit and errno results, plus what a unit test needs to play
// the BPF program's part (count forwarded packets, move verdict counters) and to inject failures.
// A registry keyed by pin directory stands in for bpffs: maps "pinned" there outlive the
// datapath that made them when it keeps them, so restart and adoption are unit-testable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "userspace/bpf/flow_maps.hpp"

namespace mpx::datapath::bpf {

class MemoryFlowMaps final : public FlowMaps {
 public:
  explicit MemoryFlowMaps(std::uint32_t max_entries) : max_entries_(max_entries) {}

  int update(const mpx_flow_key& key, const mpx_flow_value& value, std::uint64_t flags) override;
  int update_batch(std::span<const mpx_flow_key> keys, std::span<const mpx_flow_value> values,
                   std::uint64_t flags, std::uint32_t& done) override;
  int lookup(const mpx_flow_key& key, mpx_flow_value& value) const override;
  int lookup_and_erase(const mpx_flow_key& key, mpx_flow_value& value) override;
  int erase(const mpx_flow_key& key) override;
  int entries(std::vector<FlowEntry>& out) const override;
  int verdicts(std::vector<std::uint64_t>& out) const override;

  std::uint32_t max_entries() const { return max_entries_; }
  std::size_t size() const { return flows_.size(); }

  // What the BPF program does for a forwarded packet of the entry keyed by (relay, remote):
  // packets += 1 per packet, bytes += ip_bytes each, last_seen_ns set, and the verdict counter
  // moved. Returns false when there is no such entry (the program would have passed it).
  bool forward(const mpx_flow_key& key, std::uint64_t packets, std::uint64_t ip_bytes,
               std::uint64_t last_seen_ns, std::uint32_t verdict);
  void count_verdict(std::uint32_t verdict, std::uint64_t n);
  // Fails the next `count` map writes (update, batch entries, erases) with -errno_value.
  void fail_writes(int errno_value, unsigned count = 1);
  // Fails the next update_batch as a whole (the kernel's EINVAL of an old kernel, or EFAULT):
  // nothing written, done = 0.
  void fail_next_batch(int errno_value) { batch_failure_ = errno_value; }

  // The maps pinned at pin_dir (created with max_entries on first use). forget() is unpinning.
  static std::shared_ptr<MemoryFlowMaps> pinned(const std::filesystem::path& pin_dir,
                                                std::uint32_t max_entries);
  static bool is_pinned(const std::filesystem::path& pin_dir);
  static void forget(const std::filesystem::path& pin_dir);

 private:
  int injected_failure();

  std::uint32_t max_entries_;
  std::map<mpx_flow_key, mpx_flow_value, KeyLess> flows_;
  std::map<std::uint32_t, std::uint64_t> verdicts_;
  int write_failure_ = 0;
  unsigned write_failures_left_ = 0;
  int batch_failure_ = 0;
};

}  // namespace mpx::datapath::bpf
