// BpfDatapath: the facade (see bpf_datapath.hpp): open (load, pin/reuse, adopt, attach), flows
// as pairs of map entries, batches, counters, and the clean or keep-everything stop.
#include "userspace/bpf/bpf_datapath.hpp"

#include <linux/bpf.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "userspace/bpf/attachment.hpp"
#include "userspace/bpf/embedded_objects.hpp"
#include "userspace/bpf/kernel_flow_maps.hpp"
#include "userspace/bpf/memory_flow_maps.hpp"
#include "userspace/bpf/netns_scope.hpp"
#include "userspace/bpf/program_loader.hpp"
#include "userspace/bpf/verdict_names.hpp"

namespace mpx::datapath {
namespace {

using bpf::FlowEntries;

const char* program_name(BpfDatapath::Program program) {
  return program == BpfDatapath::Program::xdp ? "mpx_xdp" : "mpx_tc";
}

bpf::Hook hook_of(const BpfDatapath::Options& options) {
  if (options.program == BpfDatapath::Program::tc) {
    return bpf::Hook::tc_ingress;
  }
  return options.xdp_mode == BpfDatapath::XdpMode::native ? bpf::Hook::xdp_native
                                                          : bpf::Hook::xdp_generic;
}

std::string check_options(const BpfDatapath::Options& options) {
  if (options.max_flows < 2) {
    return "max_flows must be at least 2 (one entry per direction)";
  }
  if (options.interfaces.empty()) {
    return "no interface to attach to";
  }
  for (const std::string& interface : options.interfaces) {
    if (interface.empty() || interface.size() >= IFNAMSIZ ||
        interface.find('/') != std::string::npos) {
      return "invalid interface name '" + interface + "'";
    }
  }
  return "";
}

// bpf_fib_lookup fails with FWD_DISABLED where IPv4 forwarding is off on the ingress interface,
// and the program then passes every flow packet to the stack: the datapath would silently do
// nothing. /proc/sys/net shows the namespace of the thread that opens it.
std::string forwarding_off(const std::vector<std::string>& interfaces) {
  for (const std::string& interface : interfaces) {
    const std::string path = "/proc/sys/net/ipv4/conf/" + interface + "/forwarding";
    std::ifstream knob(path);
    std::string value;
    if (!(knob >> value)) {
      return "no interface " + interface + " in this network namespace (cannot read " + path +
             ")";
    }
    if (value != "1") {
      return "IPv4 forwarding is off on " + interface + " (sysctl net.ipv4.conf." + interface +
             ".forwarding=1, or net.ipv4.ip_forward=1): the program could forward nothing";
    }
  }
  return "";
}

std::string map_errno_text(int negative_errno, std::uint32_t max_flows) {
  if (negative_errno == -E2BIG) {
    return "the flow map is full (max_flows " + std::to_string(max_flows) + " entries)";
  }
  if (negative_errno == -EEXIST) {
    return "the flow map already has an entry for it that this datapath did not install "
           "(another process writing to the pinned map?)";
  }
  return std::string("flow map update failed: ") + std::strerror(-negative_errno);
}

}  // namespace

BpfDatapath::BpfDatapath(const Options& options) : options_(options) {}

Result<std::unique_ptr<BpfDatapath>> BpfDatapath::open(const Options& options) {
  if (const std::string why = check_options(options); !why.empty()) {
    return Error{"bpf datapath: " + why};
  }
  std::unique_ptr<BpfDatapath> datapath(new BpfDatapath(options));
  bool reused = false;
  if (options.testing) {
    if (options.pin_dir.empty()) {
      datapath->memory_maps_ = std::make_shared<bpf::MemoryFlowMaps>(options.max_flows);
    } else {
      reused = bpf::MemoryFlowMaps::is_pinned(options.pin_dir);
      datapath->memory_maps_ = bpf::MemoryFlowMaps::pinned(options.pin_dir, options.max_flows);
      if (datapath->memory_maps_->max_entries() != options.max_flows) {
        datapath->keep_pinned_ = true;  // not ours to remove
        return Error{"bpf datapath: pinned map " + (options.pin_dir / MPX_MAP_FLOWS).string() +
                     " has " + std::to_string(datapath->memory_maps_->max_entries()) +
                     " entries, expected " + std::to_string(options.max_flows)};
      }
    }
    datapath->maps_ = datapath->memory_maps_.get();
  } else {
    if (const std::string why = forwarding_off(options.interfaces); !why.empty()) {
      return Error{"bpf datapath: " + why};
    }
    auto home = bpf::NetnsHome::current();
    if (!home) {
      return Error{"bpf datapath: " + home.error().message};
    }
    datapath->home_ = std::make_unique<bpf::NetnsHome>(std::move(home).value());
    const bool xdp = options.program == Program::xdp;
    auto loaded = bpf::LoadedProgram::load(
        xdp ? embedded::xdp_object() : embedded::tc_object(), program_name(options.program),
        options.max_flows, options.pin_dir);
    if (!loaded) {
      return Error{"bpf datapath: " + loaded.error().message};
    }
    datapath->program_ = std::make_unique<bpf::LoadedProgram>(std::move(loaded).value());
    reused = datapath->program_->reused_flows();
    // A failed open must not unpin maps a previous instance's attached programs still use.
    datapath->keep_pinned_ = reused;
    datapath->kernel_maps_ = std::make_unique<bpf::KernelFlowMaps>(
        datapath->program_->flows_fd(), datapath->program_->stats_fd());
    datapath->maps_ = datapath->kernel_maps_.get();
  }
  if (reused) {
    if (auto adopted = datapath->adopt_existing(); !adopted) {
      return Error{"bpf datapath: " + adopted.error().message};
    }
  }
  if (!options.testing) {
    auto attached =
        bpf::Attachments::attach(hook_of(options), datapath->program_->program_fd(),
                                 program_name(options.program), options.interfaces,
                                 options.pin_dir, *datapath->home_);
    if (!attached) {
      return Error{"bpf datapath: " + attached.error().message};
    }
    datapath->attachments_ = std::make_unique<bpf::Attachments>(std::move(attached).value());
  }
  datapath->keep_pinned_ = false;
  return datapath;
}

BpfDatapath::~BpfDatapath() {
  if (keep_pinned_) {
    if (attachments_) {
      attachments_->release();
    }
    return;
  }
  if (attachments_) {
    attachments_->detach();
  }
  if (program_) {
    program_->unpin();
  }
  if (options_.testing && !options_.pin_dir.empty()) {
    bpf::MemoryFlowMaps::forget(options_.pin_dir);
  }
}

Result<void> BpfDatapath::adopt_existing() {
  std::vector<bpf::FlowEntry> entries;
  if (const int err = maps_->entries(entries); err != 0) {
    return Error{std::string("cannot read the pinned flow map: ") + std::strerror(-err)};
  }
  bpf::PairedEntries paired = bpf::pair_entries(entries);
  for (const mpx_flow_key& orphan : paired.orphans) {
    (void)maps_->erase(orphan);
  }
  discarded_at_open_ = paired.orphans.size();
  for (const Flow& flow : paired.flows) {
    const FlowEntries pair = bpf::entries_of(flow);
    installed_.emplace(pair.caller.key, Installed{flow, pair});
    callee_index_.emplace(pair.callee.key, pair.caller.key);
  }
  adopted_ = std::move(paired.flows);
  return outcome::success();
}

std::string BpfDatapath::name() const { return options_.program == Program::xdp ? "xdp" : "tc"; }

std::string BpfDatapath::flow_error(const char* action, const Flow& flow,
                                    const std::string& why) const {
  return "bpf datapath (" + name() + "): " + action + " " + bpf::describe(flow) + ": " + why;
}

std::string BpfDatapath::rejection(const Flow& flow,
                                   const std::map<mpx_flow_key, bool, bpf::KeyLess>& pending) const {
  if (std::string why = bpf::invalid_flow(flow); !why.empty()) {
    return why;
  }
  const FlowEntries entries = bpf::entries_of(flow);
  const auto found = installed_.find(entries.caller.key);
  if (found != installed_.end() && found->second.flow == flow) {
    return "already installed";
  }
  for (const auto* key : {&entries.caller.key, &entries.callee.key}) {
    if (installed_.contains(*key) || callee_index_.contains(*key)) {
      return "packets " + bpf::describe(*key) + " already belong to an installed flow";
    }
    if (pending.contains(*key)) {
      return "packets " + bpf::describe(*key) + " already belong to a flow of this batch";
    }
  }
  return "";
}

Result<void> BpfDatapath::write_pair(const Installed& installed) {
  const FlowEntries& entries = installed.entries;
  if (const int err = maps_->update(entries.caller.key, entries.caller.value, BPF_NOEXIST);
      err != 0) {
    return Error{flow_error("installing", installed.flow, map_errno_text(err, options_.max_flows))};
  }
  if (const int err = maps_->update(entries.callee.key, entries.callee.value, BPF_NOEXIST);
      err != 0) {
    (void)maps_->erase(entries.caller.key);  // both directions or neither
    return Error{flow_error("installing", installed.flow, map_errno_text(err, options_.max_flows))};
  }
  installed_.emplace(entries.caller.key, installed);
  callee_index_.emplace(entries.callee.key, entries.caller.key);
  return outcome::success();
}

Result<void> BpfDatapath::install(const Flow& flow) {
  if (const std::string why = rejection(flow, {}); !why.empty()) {
    return Error{flow_error("installing", flow, why)};
  }
  return write_pair(Installed{flow, bpf::entries_of(flow)});
}

std::vector<Result<void>> BpfDatapath::install_batch(std::span<const Flow> flows) {
  std::vector<Result<void>> results(flows.size(), outcome::success());
  std::map<mpx_flow_key, bool, bpf::KeyLess> pending;
  std::vector<std::size_t> indices;
  std::vector<Installed> candidates;
  std::vector<mpx_flow_key> keys;
  std::vector<mpx_flow_value> values;
  for (std::size_t i = 0; i < flows.size(); ++i) {
    if (const std::string why = rejection(flows[i], pending); !why.empty()) {
      results[i] = Error{flow_error("installing", flows[i], why)};
      continue;
    }
    Installed candidate{flows[i], bpf::entries_of(flows[i])};
    pending.emplace(candidate.entries.caller.key, true);
    pending.emplace(candidate.entries.callee.key, true);
    keys.push_back(candidate.entries.caller.key);
    keys.push_back(candidate.entries.callee.key);
    values.push_back(candidate.entries.caller.value);
    values.push_back(candidate.entries.callee.value);
    indices.push_back(i);
    candidates.push_back(std::move(candidate));
  }
  std::uint32_t done = 0;
  // BPF_ANY: the kernel's batch update takes no BPF_NOEXIST (EINVAL; only BPF_F_LOCK is
  // allowed per element), so the batch relies on this datapath's own table, checked above, for
  // keys already in use.
  const int err = maps_->update_batch(keys, values, BPF_ANY, done);
  const std::size_t complete = err == 0 ? candidates.size() : done / 2;
  for (std::size_t c = 0; c < complete; ++c) {
    const FlowEntries& entries = candidates[c].entries;
    installed_.emplace(entries.caller.key, candidates[c]);
    callee_index_.emplace(entries.callee.key, entries.caller.key);
  }
  if (complete == candidates.size()) {
    return results;
  }
  // The batch stopped inside the list: undo a half-written flow, then go one by one, which
  // also gives each remaining flow its own error.
  ++batch_fallbacks_;
  if (done % 2 == 1) {
    (void)maps_->erase(candidates[complete].entries.caller.key);
  }
  for (std::size_t c = complete; c < candidates.size(); ++c) {
    results[indices[c]] = write_pair(candidates[c]);
  }
  return results;
}

Result<void> BpfDatapath::claim_adopted(const Flow& flow) {
  if (const std::string why = bpf::invalid_flow(flow); !why.empty()) {
    return Error{flow_error("adopting", flow, why)};
  }
  const FlowEntries pair = bpf::entries_of(flow);
  if (const auto same = installed_.find(pair.caller.key);
      same != installed_.end() && same->second.flow == flow) {
    return outcome::success();
  }
  const Flow reversed{flow.callee_remote, flow.callee_local, flow.caller_local,
                      flow.caller_remote};
  const auto reverse = installed_.find(pair.callee.key);
  if (reverse == installed_.end() || !(reverse->second.flow == reversed)) {
    return Error{flow_error("adopting", flow, "not in the flow map")};
  }
  callee_index_.erase(reverse->second.entries.callee.key);
  installed_.erase(reverse);
  installed_.emplace(pair.caller.key, Installed{flow, pair});
  callee_index_.emplace(pair.callee.key, pair.caller.key);
  return outcome::success();
}

Result<BpfDatapath::Table::iterator> BpfDatapath::find(const Flow& flow, const char* action) {
  if (const std::string why = bpf::invalid_flow(flow); !why.empty()) {
    return Error{flow_error(action, flow, why)};
  }
  const auto found = installed_.find(bpf::entries_of(flow).caller.key);
  if (found == installed_.end() || !(found->second.flow == flow)) {
    return Error{flow_error(action, flow, "not installed")};
  }
  return found;
}

Result<FlowCounters> BpfDatapath::counters(const Flow& flow) {
  auto found = find(flow, "reading");
  if (!found) {
    return found.error();
  }
  const FlowEntries& entries = found.value()->second.entries;
  mpx_flow_value caller{};
  mpx_flow_value callee{};
  for (auto [key, value] : {std::pair{&entries.caller.key, &caller},
                            std::pair{&entries.callee.key, &callee}}) {
    if (const int err = maps_->lookup(*key, *value); err != 0) {
      return Error{flow_error("reading", flow,
                              err == -ENOENT
                                  ? "its entry " + bpf::describe(*key) +
                                        " is gone from the flow map (deleted by someone else)"
                                  : std::string("flow map lookup failed: ") +
                                        std::strerror(-err))};
    }
  }
  return bpf::counters_of(caller, callee);
}

Result<FlowCounters> BpfDatapath::take(Table::iterator installed) {
  const Installed& entry = installed->second;
  mpx_flow_value caller{};
  mpx_flow_value callee{};
  for (auto [key, value] : {std::pair{&entry.entries.caller.key, &caller},
                            std::pair{&entry.entries.callee.key, &callee}}) {
    const int err = maps_->lookup_and_erase(*key, *value);
    if (err != 0 && err != -ENOENT) {  // ENOENT: already gone (a retried remove)
      return Error{flow_error("removing", entry.flow,
                              std::string("flow map delete failed: ") + std::strerror(-err))};
    }
  }
  callee_index_.erase(entry.entries.callee.key);
  installed_.erase(installed);
  return bpf::counters_of(caller, callee);
}

Result<FlowCounters> BpfDatapath::remove(const Flow& flow) {
  auto found = find(flow, "removing");
  if (!found) {
    return found.error();
  }
  return take(found.value());
}

std::vector<Result<FlowCounters>> BpfDatapath::remove_batch(std::span<const Flow> flows) {
  std::vector<Result<FlowCounters>> results;
  results.reserve(flows.size());
  for (const Flow& flow : flows) {
    results.push_back(remove(flow));
  }
  return results;
}

std::vector<Flow> BpfDatapath::flows() const {
  std::vector<Flow> all;
  all.reserve(installed_.size());
  for (const auto& [key, installed] : installed_) {
    all.push_back(installed.flow);
  }
  return all;
}

std::map<std::string, std::uint64_t> BpfDatapath::verdict_counters() const {
  std::vector<std::uint64_t> sums;
  if (maps_->verdicts(sums) != 0) {
    return {};
  }
  std::map<std::string, std::uint64_t> named;
  for (std::uint32_t index = 0; index < sums.size(); ++index) {
    named[verdict_name(index)] = sums[index];
  }
  return named;
}

std::string BpfDatapath::leftovers_location() const {
  return options_.pin_dir.empty() ? std::string("(maps not pinned)") : options_.pin_dir.string();
}

std::optional<DatapathDetails> BpfDatapath::details() const {
  return DatapathDetails{attach_mode(), verdict_counters()};
}

std::string BpfDatapath::attach_mode() const {
  std::string text;
  switch (hook_of(options_)) {
    case bpf::Hook::xdp_native:
      text = "xdp native on ";
      break;
    case bpf::Hook::xdp_generic:
      text = "xdp generic on ";
      break;
    case bpf::Hook::tc_ingress:
      text = "tc ingress on ";
      break;
  }
  for (std::size_t i = 0; i < options_.interfaces.size(); ++i) {
    text += (i == 0 ? "" : ",") + options_.interfaces[i];
  }
  return options_.testing ? text + " (testing)" : text;
}

std::vector<std::string> BpfDatapath::replaced_attachments() const {
  return attachments_ ? attachments_->replaced() : std::vector<std::string>{};
}

bpf::MemoryFlowMaps* BpfDatapath::testing_maps() const { return memory_maps_.get(); }

}  // namespace mpx::datapath
