// MemoryFlowMaps: in-memory flow and verdict maps with the kernel's semantics (see header).
#include "userspace/bpf/memory_flow_maps.hpp"

#include <linux/bpf.h>

#include <cerrno>
#include <mutex>
#include <utility>

namespace mpx::datapath::bpf {
namespace {

// bpffs stand-in: one set of maps per pin directory, for the whole process.
std::mutex registry_mutex;
std::map<std::filesystem::path, std::shared_ptr<MemoryFlowMaps>>& registry() {
  static std::map<std::filesystem::path, std::shared_ptr<MemoryFlowMaps>> pins;
  return pins;
}

}  // namespace

int MemoryFlowMaps::injected_failure() {
  if (write_failures_left_ == 0) {
    return 0;
  }
  --write_failures_left_;
  return -write_failure_;
}

void MemoryFlowMaps::fail_writes(int errno_value, unsigned count) {
  write_failure_ = errno_value;
  write_failures_left_ = count;
}

int MemoryFlowMaps::update(const mpx_flow_key& key, const mpx_flow_value& value,
                           std::uint64_t flags) {
  if (const int failed = injected_failure(); failed != 0) {
    return failed;
  }
  const auto found = flows_.find(key);
  if (found != flows_.end()) {
    if (flags == BPF_NOEXIST) {
      return -EEXIST;
    }
    found->second = value;
    return 0;
  }
  if (flags == BPF_EXIST) {
    return -ENOENT;
  }
  if (flows_.size() >= max_entries_) {
    return -E2BIG;  // what a full BPF hash map answers
  }
  flows_.emplace(key, value);
  return 0;
}

int MemoryFlowMaps::update_batch(std::span<const mpx_flow_key> keys,
                                 std::span<const mpx_flow_value> values, std::uint64_t flags,
                                 std::uint32_t& done) {
  done = 0;
  if (batch_failure_ != 0) {
    return -std::exchange(batch_failure_, 0);
  }
  // As the kernel: no per-element flag but BPF_F_LOCK, refused before anything is written.
  if (keys.size() != values.size() || (flags & ~static_cast<std::uint64_t>(BPF_F_LOCK)) != 0) {
    return -EINVAL;
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (const int err = update(keys[i], values[i], flags); err != 0) {
      return err;
    }
    ++done;
  }
  return 0;
}

int MemoryFlowMaps::lookup(const mpx_flow_key& key, mpx_flow_value& value) const {
  const auto found = flows_.find(key);
  if (found == flows_.end()) {
    return -ENOENT;
  }
  value = found->second;
  return 0;
}

int MemoryFlowMaps::lookup_and_erase(const mpx_flow_key& key, mpx_flow_value& value) {
  if (const int err = lookup(key, value); err != 0) {
    return err;
  }
  return erase(key);
}

int MemoryFlowMaps::erase(const mpx_flow_key& key) {
  if (const int failed = injected_failure(); failed != 0) {
    return failed;
  }
  return flows_.erase(key) == 1 ? 0 : -ENOENT;
}

int MemoryFlowMaps::entries(std::vector<FlowEntry>& out) const {
  out.clear();
  for (const auto& [key, value] : flows_) {
    out.push_back({key, value});
  }
  return 0;
}

int MemoryFlowMaps::verdicts(std::vector<std::uint64_t>& out) const {
  out.assign(MPX_STAT_MAX, 0);
  for (const auto& [index, count] : verdicts_) {
    if (index < out.size()) {
      out[index] = count;
    }
  }
  return 0;
}

bool MemoryFlowMaps::forward(const mpx_flow_key& key, std::uint64_t packets,
                             std::uint64_t ip_bytes, std::uint64_t last_seen_ns,
                             std::uint32_t verdict) {
  const auto found = flows_.find(key);
  if (found == flows_.end()) {
    count_verdict(MPX_STAT_PASS_NO_FLOW, packets);
    return false;
  }
  found->second.packets += packets;
  found->second.bytes += packets * ip_bytes;
  found->second.last_seen_ns = last_seen_ns;
  count_verdict(verdict, packets);
  return true;
}

void MemoryFlowMaps::count_verdict(std::uint32_t verdict, std::uint64_t n) {
  verdicts_[verdict] += n;
}

std::shared_ptr<MemoryFlowMaps> MemoryFlowMaps::pinned(const std::filesystem::path& pin_dir,
                                                       std::uint32_t max_entries) {
  const std::lock_guard lock(registry_mutex);
  auto& slot = registry()[pin_dir];
  if (!slot) {
    slot = std::make_shared<MemoryFlowMaps>(max_entries);
  }
  return slot;
}

bool MemoryFlowMaps::is_pinned(const std::filesystem::path& pin_dir) {
  const std::lock_guard lock(registry_mutex);
  return registry().contains(pin_dir);
}

void MemoryFlowMaps::forget(const std::filesystem::path& pin_dir) {
  const std::lock_guard lock(registry_mutex);
  registry().erase(pin_dir);
}

}  // namespace mpx::datapath::bpf
