// ConntrackDatapath: flows as conntrack NAT entries (install with read-back check and EEXIST
// recovery, counters with the activity estimate and lease renewal, removal, crash cleanup).
#include "userspace/conntrack/conntrack_datapath.hpp"

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <utility>

#include "userspace/conntrack/flow_text.hpp"
#include "userspace/conntrack/sysctl.hpp"

namespace mpx::datapath {
namespace {

using conntrack::CreateOutcome;
using conntrack::EntrySnapshot;

constexpr std::uint32_t kNatBits = IPS_SRC_NAT | IPS_DST_NAT;

std::string flow_error(const char* action, const Flow& flow, const std::string& why) {
  return std::string("conntrack datapath: ") + action + " " + describe(flow) + ": " + why;
}

bool all_ipv4(const Flow& flow) {
  return flow.caller_remote.address().is_v4() && flow.caller_local.address().is_v4() &&
         flow.callee_local.address().is_v4() && flow.callee_remote.address().is_v4();
}

// Why the entry read back is not the one install() asked for; "" when it is.
std::string mismatch(const EntrySnapshot& entry, const Flow& flow, std::uint32_t mark) {
  if (entry.mark != mark) {
    return "entry carries mark " + std::to_string(entry.mark) + ", not ours (" +
           std::to_string(mark) + ")";
  }
  if ((entry.status & kNatBits) != kNatBits) {
    return "kernel did not set IPS_SRC_NAT and IPS_DST_NAT (status " +
           std::to_string(entry.status) +
           "): are the conntrack and NAT hooks registered in this namespace?";
  }
  if (entry.orig_src != flow.caller_remote || entry.orig_dst != flow.caller_local ||
      entry.reply_src != flow.callee_remote || entry.reply_dst != flow.callee_local) {
    return "entry has tuples " + describe(entry.orig_src) + " -> " + describe(entry.orig_dst) +
           " / reply " + describe(entry.reply_src) + " -> " + describe(entry.reply_dst);
  }
  return "";
}

// The counters just read, with last_activity moved to `now` if any packet count changed since
// the previous read (conntrack has no last-seen time; see the header).
FlowCounters advance(const FlowCounters& previous, const EntrySnapshot& entry,
                     std::chrono::steady_clock::time_point now) {
  FlowCounters c;
  c.caller_packets = entry.orig_packets;
  c.caller_bytes = entry.orig_bytes;
  c.callee_packets = entry.reply_packets;
  c.callee_bytes = entry.reply_bytes;
  const bool moved =
      c.caller_packets != previous.caller_packets || c.callee_packets != previous.callee_packets;
  c.last_activity = moved ? now : previous.last_activity;
  return c;
}

}  // namespace

ConntrackDatapath::ConntrackDatapath(conntrack::ConntrackTable table,
                                     conntrack::ConntrackBatch batch, const Options& options,
                                     std::chrono::seconds max_poll_interval)
    : table_(std::move(table)),
      batch_(std::move(batch)),
      options_(options),
      max_poll_interval_(max_poll_interval) {}

Result<std::unique_ptr<ConntrackDatapath>> ConntrackDatapath::open(const Options& options) {
  if (options.lease.count() < 1 ||
      options.lease.count() > std::numeric_limits<std::int32_t>::max()) {
    return Error{"conntrack datapath: lease must be between 1 s and 2^31-1 s, got " +
                 std::to_string(options.lease.count()) + " s"};
  }
  if (options.eexist_attempts < 1) {
    return Error{"conntrack datapath: eexist_attempts must be at least 1"};
  }
  std::optional<NamespacePreparer> preparer;
  if (options.prepare_namespace) {
    auto prepared = NamespacePreparer::prepare(*options.prepare_namespace);
    if (!prepared) {
      return Error{"conntrack datapath: " + prepared.error().message};
    }
    preparer.emplace(std::move(prepared).value());
  }
  // Without these the entries are created but never counted or never forwarded: refuse
  // instead of failing silently later.
  for (const char* knob : {"net.netfilter.nf_conntrack_acct", "net.ipv4.ip_forward"}) {
    auto value = read_sysctl(knob);
    if (!value) {
      return Error{"conntrack datapath: " + value.error().message};
    }
    if (value.value() != "1") {
      return Error{std::string("conntrack datapath: ") + knob + " is " + value.value() +
                   ", not 1: prepare the network namespace first (NamespacePreparer)"};
    }
  }
  auto table = conntrack::ConntrackTable::open();
  if (!table) {
    return table.error();
  }
  auto batch = conntrack::ConntrackBatch::open();
  if (!batch) {
    return batch.error();
  }
  // Entries a crashed previous instance left behind would keep forwarding (and clash with the
  // ports we are about to hand out), unless the relay re-adopts them.
  std::vector<conntrack::EntrySnapshot> leftovers;
  if (options.adopt_leftovers) {
    auto dumped = table.value().dump_marked(options.mark);
    if (!dumped) {
      return Error{"conntrack datapath: reading leftover entries at start: " +
                   dumped.error().message};
    }
    leftovers = std::move(dumped).value();
  } else if (auto purged = table.value().destroy_marked(options.mark); !purged) {
    return Error{"conntrack datapath: removing leftover entries at start: " +
                 purged.error().message};
  }
  // A packet resets an entry's timeout to the kernel's UDP timeout (30 s by default when only
  // one side sends), which may be shorter than the lease.
  std::chrono::seconds max_poll = options.lease;
  auto udp_timeout = read_sysctl("net.netfilter.nf_conntrack_udp_timeout");
  if (udp_timeout) {
    try {
      max_poll = std::min(max_poll, std::chrono::seconds(std::stol(udp_timeout.value())));
    } catch (const std::exception&) {
      // Unparsable: keep the lease; the 30 s kernel default is documented in the header.
    }
  }
  std::unique_ptr<ConntrackDatapath> datapath(
      new ConntrackDatapath(std::move(table.value()), std::move(batch.value()), options, max_poll));
  datapath->preparer_ = std::move(preparer);
  for (const auto& entry : leftovers) {
    // Created as caller_remote -> caller_local, DNAT to callee_remote, SNAT to callee_local.
    const Flow flow{entry.orig_src, entry.orig_dst, entry.reply_dst, entry.reply_src};
    FlowCounters last;
    last.caller_packets = entry.orig_packets;
    last.caller_bytes = entry.orig_bytes;
    last.callee_packets = entry.reply_packets;
    last.callee_bytes = entry.reply_bytes;
    datapath->remember(flow, last);
    datapath->adopted_.push_back(flow);
  }
  return datapath;
}

std::string ConntrackDatapath::leftovers_location() const {
  char mark[16];
  std::snprintf(mark, sizeof mark, "%#x", options_.mark);
  return std::string("conntrack (mark ") + mark + ")";
}

Result<void> ConntrackDatapath::claim_adopted(const Flow& flow) {
  auto found = find(flow, "adopting");
  if (!found) {
    return found.error();
  }
  return outcome::success();
}

ConntrackDatapath::~ConntrackDatapath() {
  // Best effort: a failure here cannot be reported, and the next start purges by mark anyway.
  (void)table_.destroy_marked(options_.mark);
}

ConntrackDatapath::Key ConntrackDatapath::key_of(const Flow& flow) {
  return Key{
      flow.caller_remote.address().is_v4() ? flow.caller_remote.address().to_v4().to_uint() : 0U,
      flow.caller_remote.port(),
      flow.caller_local.address().is_v4() ? flow.caller_local.address().to_v4().to_uint() : 0U,
      flow.caller_local.port()};
}

Result<std::map<ConntrackDatapath::Key, ConntrackDatapath::Installed>::iterator>
ConntrackDatapath::find(const Flow& flow, const char* action) {
  auto it = installed_.find(key_of(flow));
  if (it == installed_.end() || !(it->second.flow == flow)) {
    return Error{flow_error(action, flow, "flow is not installed")};
  }
  return it;
}

Result<void> ConntrackDatapath::create_checked(const Flow& flow) {
  const conntrack::NatEntrySpec spec{flow.caller_remote,
                                     flow.caller_local,
                                     flow.callee_remote,
                                     flow.callee_local,
                                     options_.mark,
                                     static_cast<std::uint32_t>(options_.lease.count()),
                                     false};
  for (unsigned attempt = 1; attempt <= options_.eexist_attempts; ++attempt) {
    auto created = table_.create_nat(spec);
    if (!created) {
      return Error{flow_error("install", flow, created.error().message)};
    }
    if (created.value() == CreateOutcome::kCreated) {
      return outcome::success();
    }
    // Packets reached the relay's ports before the entry existed, so the kernel made plain
    // entries for them; NAT cannot be added to those by update. Delete both directions' plain
    // entries and try again (traffic may re-create them in between: bounded retries).
    for (const auto& [src, dst] : {std::pair{flow.caller_remote, flow.caller_local},
                                   std::pair{flow.callee_remote, flow.callee_local}}) {
      auto gone = table_.destroy(src, dst);
      if (!gone) {
        return Error{flow_error("install", flow,
                                "deleting the plain entry in the way: " + gone.error().message)};
      }
    }
  }
  return Error{flow_error("install", flow,
                          "an entry for these tuples exists (EEXIST) and kept re-appearing after " +
                              std::to_string(options_.eexist_attempts) +
                              " delete-and-recreate attempts")};
}

Result<EntrySnapshot> ConntrackDatapath::read_own(const Flow& flow) {
  auto entry = table_.get(flow.caller_remote, flow.caller_local);
  if (!entry) {
    return entry.error();
  }
  if (!entry.value()) {
    return Error{
        "the entry is gone (expired: not polled within max_poll_interval, or deleted by someone "
        "else)"};
  }
  const std::string wrong = mismatch(*entry.value(), flow, options_.mark);
  if (!wrong.empty()) {
    return Error{"the entry found is not ours: " + wrong};
  }
  return *entry.value();
}

Result<EntrySnapshot> ConntrackDatapath::read_for_counters(const Flow& flow) {
  if (installed_.size() < options_.bulk_read_from) {
    // A dump older than this GET must not be served later (its counters would go backwards).
    snapshot_.clear();
    snapshot_taken_ = {};
    return read_own(flow);
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - snapshot_taken_ > std::chrono::milliseconds(500)) {
    snapshot_.clear();
    snapshot_taken_ = {};
    if (auto dumped = table_.dump_marked(options_.mark)) {
      for (const auto& entry : dumped.value()) {
        snapshot_.emplace(std::pair{entry.orig_src, entry.orig_dst}, entry);
      }
      snapshot_taken_ = now;
      ++bulk_reads_;
    }
  }
  const auto found = snapshot_.find(std::pair{flow.caller_remote, flow.caller_local});
  if (found != snapshot_.end() && mismatch(found->second, flow, options_.mark).empty()) {
    return found->second;
  }
  return read_own(flow);
}

void ConntrackDatapath::forget_snapshot(const Flow& flow) {
  snapshot_.erase(std::pair{flow.caller_remote, flow.caller_local});
}

std::string ConntrackDatapath::rejection(const Flow& flow, const Pending& pending) const {
  if (!all_ipv4(flow)) {
    return "IPv4 endpoints only";
  }
  if (flow.caller_local == flow.callee_local) {
    return "caller_local and callee_local must differ";
  }
  const Key key = key_of(flow);
  if (installed_.contains(key) || pending.keys.contains(key)) {
    return "a flow from this caller to this port is installed";
  }
  // The same reply tuple would make the EEXIST recovery delete the other flow's entry.
  const CalleeSide callee{flow.callee_remote, flow.callee_local};
  if (const auto used = callee_index_.find(callee); used != callee_index_.end()) {
    return "its callee side is used by the installed flow " +
           describe(installed_.at(used->second).flow);
  }
  if (pending.callee_sides.contains(callee)) {
    return "its callee side is used by another flow of this batch";
  }
  return "";
}

void ConntrackDatapath::remember(const Flow& flow, const FlowCounters& last) {
  forget_snapshot(flow);
  const Key key = key_of(flow);
  installed_.emplace(key, Installed{flow, last});
  callee_index_.emplace(CalleeSide{flow.callee_remote, flow.callee_local}, key);
}

void ConntrackDatapath::forget(std::map<Key, Installed>::iterator it) {
  forget_snapshot(it->second.flow);
  callee_index_.erase(CalleeSide{it->second.flow.callee_remote, it->second.flow.callee_local});
  installed_.erase(it);
}

Result<void> ConntrackDatapath::create_and_verify(const Flow& flow) {
  auto created = create_checked(flow);
  if (!created) {
    return created.error();
  }
  auto entry = read_own(flow);
  if (!entry) {
    // Do not leave a half-working entry behind (e.g. one without NAT that eats the flow).
    (void)table_.destroy(flow.caller_remote, flow.caller_local);
    return Error{flow_error("install", flow, "read-back check failed: " + entry.error().message)};
  }
  remember(flow, FlowCounters{});
  return outcome::success();
}

Result<void> ConntrackDatapath::install(const Flow& flow) {
  if (auto why = rejection(flow, Pending{}); !why.empty()) {
    return Error{flow_error("install", flow, why)};
  }
  return create_and_verify(flow);
}

std::vector<Result<void>> ConntrackDatapath::install_batch(std::span<const Flow> flows) {
  std::vector<Result<void>> results(flows.size(), outcome::success());
  std::vector<Flow> accepted;
  Pending pending;
  std::vector<std::size_t> accepted_index;
  std::vector<conntrack::NatEntrySpec> specs;
  for (std::size_t i = 0; i < flows.size(); ++i) {
    const Flow& flow = flows[i];
    if (auto why = rejection(flow, pending); !why.empty()) {
      results[i] = Error{flow_error("install", flow, why)};
      continue;
    }
    accepted.push_back(flow);
    pending.keys.insert(key_of(flow));
    pending.callee_sides.emplace(flow.callee_remote, flow.callee_local);
    accepted_index.push_back(i);
    specs.push_back({flow.caller_remote, flow.caller_local, flow.callee_remote, flow.callee_local,
                     options_.mark, static_cast<std::uint32_t>(options_.lease.count()), false});
  }
  if (specs.empty()) {
    return results;
  }
  auto created = batch_.create_nat(specs);
  if (!created) {
    ++batch_fallbacks_;
    // Some requests may have been applied: check each flow the slow way.
    for (std::size_t k = 0; k < accepted.size(); ++k) {
      results[accepted_index[k]] = create_and_verify(accepted[k]);
    }
    return results;
  }
  auto dumped = table_.dump_marked(options_.mark);
  std::map<std::pair<Endpoint, Endpoint>, EntrySnapshot> ours;
  if (dumped) {
    for (const auto& entry : dumped.value()) {
      ours.emplace(std::pair{entry.orig_src, entry.orig_dst}, entry);
    }
  }
  for (std::size_t k = 0; k < accepted.size(); ++k) {
    const Flow& flow = accepted[k];
    Result<void>& result = results[accepted_index[k]];
    const int error = created.value()[k];
    if (!dumped && k == 0) {
      ++batch_fallbacks_;
    }
    if (error == EEXIST || !dumped) {
      result = create_and_verify(flow);
      continue;
    }
    if (error != 0) {
      result = Error{flow_error("install", flow,
                                "conntrack: create failed: " + std::string(std::strerror(error)))};
      continue;
    }
    const auto found = ours.find(std::pair{flow.caller_remote, flow.caller_local});
    const std::string wrong = found == ours.end() ? std::string("entry not found after creation")
                                                  : mismatch(found->second, flow, options_.mark);
    if (!wrong.empty()) {
      (void)table_.destroy(flow.caller_remote, flow.caller_local);
      result = Error{flow_error("install", flow, "read-back check failed: " + wrong)};
      continue;
    }
    remember(flow, FlowCounters{});
  }
  return results;
}

std::vector<Result<FlowCounters>> ConntrackDatapath::remove_batch(std::span<const Flow> flows) {
  std::vector<Result<FlowCounters>> results(flows.size(), FlowCounters{});
  auto dumped = table_.dump_marked(options_.mark);
  if (!dumped) {
    ++batch_fallbacks_;
    for (std::size_t i = 0; i < flows.size(); ++i) {
      results[i] = remove(flows[i]);
    }
    return results;
  }
  std::map<std::pair<Endpoint, Endpoint>, EntrySnapshot> ours;
  for (const auto& entry : dumped.value()) {
    ours.emplace(std::pair{entry.orig_src, entry.orig_dst}, entry);
  }
  std::vector<std::pair<Endpoint, Endpoint>> doomed;
  std::vector<std::size_t> doomed_index;
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < flows.size(); ++i) {
    const Flow& flow = flows[i];
    auto it = find(flow, "remove");
    if (!it) {
      results[i] = it.error();
      continue;
    }
    FlowCounters final_counters = it.value()->second.last;
    const auto found = ours.find(std::pair{flow.caller_remote, flow.caller_local});
    if (found != ours.end() && mismatch(found->second, flow, options_.mark).empty()) {
      final_counters = advance(final_counters, found->second, now);
      doomed.emplace_back(flow.caller_remote, flow.caller_local);
      doomed_index.push_back(i);
    }
    results[i] = final_counters;
    forget(it.value());
  }
  if (doomed.empty()) {
    return results;
  }
  auto deleted = batch_.destroy(doomed);
  if (!deleted) {
    ++batch_fallbacks_;
  }
  for (std::size_t k = 0; k < doomed.size(); ++k) {
    const std::size_t i = doomed_index[k];
    if (!deleted) {
      // Fall back to one request per entry; a missing entry is already gone.
      auto gone = table_.destroy(doomed[k].first, doomed[k].second);
      if (!gone) {
        remember(flows[i], results[i].value());
        results[i] = Error{flow_error("remove", flows[i], gone.error().message)};
      }
      continue;
    }
    const int error = deleted.value()[k];
    if (error != 0 && error != ENOENT) {
      // The entry is still there: keep the flow, as remove() does.
      remember(flows[i], results[i].value());
      results[i] = Error{flow_error(
          "remove", flows[i], "conntrack: delete failed: " + std::string(std::strerror(error)))};
    }
  }
  return results;
}

Result<FlowCounters> ConntrackDatapath::counters(const Flow& flow) {
  auto it = find(flow, "counters of");
  if (!it) {
    return it.error();
  }
  Installed& state = it.value()->second;
  auto entry = read_for_counters(flow);
  if (!entry) {
    return Error{flow_error("counters of", flow, entry.error().message)};
  }
  const FlowCounters now = advance(state.last, entry.value(), std::chrono::steady_clock::now());
  state.last = now;

  // The entry outlives the next read (due within max_poll_interval) with room for a dump's age.
  if (entry.value().timeout > max_poll_interval_.count() + 10) {
    return now;
  }
  ++lease_renewals_;
  forget_snapshot(flow);
  auto renewed = table_.set_timeout(flow.caller_remote, flow.caller_local,
                                    static_cast<std::uint32_t>(options_.lease.count()));
  if (!renewed) {
    return Error{flow_error("counters of", flow, renewed.error().message)};
  }
  if (!renewed.value()) {
    return Error{flow_error("counters of", flow, "the entry vanished while renewing its lease")};
  }
  return now;
}

Result<FlowCounters> ConntrackDatapath::remove(const Flow& flow) {
  auto it = find(flow, "remove");
  if (!it) {
    return it.error();
  }
  FlowCounters final_counters = it.value()->second.last;
  auto entry = read_own(flow);
  if (entry) {
    final_counters = advance(final_counters, entry.value(), std::chrono::steady_clock::now());
    // Only delete what we verified is ours: a plain entry that replaced a lapsed one belongs to
    // the relay's sockets.
    auto gone = table_.destroy(flow.caller_remote, flow.caller_local);
    if (!gone) {
      return Error{flow_error("remove", flow, gone.error().message)};
    }
  }
  forget(it.value());
  return final_counters;
}

std::vector<Flow> ConntrackDatapath::flows() const {
  std::vector<Flow> out;
  out.reserve(installed_.size());
  for (const auto& [key, state] : installed_) {
    out.push_back(state.flow);
  }
  return out;
}

}  // namespace mpx::datapath
