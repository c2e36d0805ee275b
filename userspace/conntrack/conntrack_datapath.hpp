// ConntrackDatapath: the default Datapath back-end. Each flow becomes ONE conntrack entry with
// DNAT + SNAT (MediaProxy's method, spec/mediaproxy-compat.md 5.6): original tuple
// caller_remote -> caller_local, DNAT to callee_remote, SNAT to callee_local, so the kernel
// forwards both directions and the relay's sockets no longer see the flow.
//
// Ownership: every entry carries Options::mark. open() deletes all entries with that mark (left
// by a crashed previous instance; with adopt_leftovers it keeps them as adopted() instead) and
// the destructor deletes them again. Use one mark per relay
// instance per network namespace.
//
// Lifetime (the IPS_FIXED_TIMEOUT decision): entries are created WITHOUT IPS_FIXED_TIMEOUT,
// with an initial timeout of Options::lease, and counters() re-arms that timeout at every read.
// Measured on kernel 6.18: the timeout of an IPS_FIXED_TIMEOUT entry cannot be changed at all
// (an update carrying CTA_TIMEOUT fails with EPERM), so a fixed entry is either short (it dies
// during a silent hold while the relay is alive) or long (a dead relay's entries forward media
// for that whole time). Without the bit:
//  - while the relay lives and polls, an entry never expires on its own, even through a long
//    silent hold: the relay's own no-traffic / on-hold timers (spec 5.7) decide when it ends;
//  - when the relay dies, traffic keeps refreshing its entries (to the kernel's UDP timeouts,
//    30 s unreplied / 120 s assured), so they end 30-120 s after the endpoints stop sending,
//    i.e. with the stream; a restarted relay deletes them at once by mark.
// Because each packet resets the timeout to the kernel's UDP timeout (not to the lease), the
// relay MUST call counters() for every flow more often than max_poll_interval() (the smaller of
// the lease and net.netfilter.nf_conntrack_udp_timeout). counters() re-arms the lease only when
// the entry has less than max_poll_interval() + 10 s left, so an entry that two-way media keeps
// at the kernel's 120 s costs no update per read. If it does not, the entry may expire,
// packets fall back to the relay's sockets, and counters() reports the flow as gone (an error)
// while remove() still returns the last counters read.
//
// Last activity: conntrack keeps no last-seen timestamp. counters() compares the packet counts
// with the previous read and sets last_activity to the time of the read that first saw them
// change, so it is late by at most the polling interval. The relay's no-traffic timer fires when
// now - last_activity (or the hand-off time, when last_activity is still the epoch) exceeds
// stream_timeout; its on-hold timer is independent of activity (spec 5.7). Expect the timers to
// fire up to one polling interval late; poll more often than the shortest timeout precision you
// need.
//
// Counters are 64-bit and cover only what the kernel forwarded: packets the relay's sockets saw
// before the hand-off are the relay's to add, and packets between remove()'s final read and the
// delete (microseconds) are lost, as in MediaProxy.
//
// Reading many flows (the relay polls every flow every few seconds): one GET per flow costs a
// netlink round trip each, tens of microseconds, on the relay's event loop. With at least
// Options::bulk_read_from flows installed, counters() serves reads from ONE dump of the relay's
// mark, taken at most every 500 ms (a dump walks the whole conntrack hash table, 10-60 ms,
// whatever the number of flows, hence the threshold); a flow the dump does not hold (installed
// after it) is read with a GET, so a lost entry is still reported as lost.
//
// Not thread-safe: drive it from the relay's event loop. The netlink socket belongs to the
// network namespace the thread was in when open() ran.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "common/result.hpp"
#include "userspace/conntrack/conntrack_batch.hpp"
#include "userspace/conntrack/conntrack_table.hpp"
#include "userspace/conntrack/namespace_preparer.hpp"
#include "userspace/datapath.hpp"

namespace mpx::datapath {

class ConntrackDatapath final : public Datapath {
 public:
  struct Options {
    std::uint32_t mark = 0x6d707831;  // "mpx1": identifies this relay's entries
    std::chrono::seconds lease{60};   // entry timeout, re-armed by counters()
    unsigned eexist_attempts = 5;     // delete-and-recreate rounds when a plain entry exists
    // A restart that must not cut calls (issue 5 point 4): open() keeps the entries carrying
    // the mark instead of deleting them and reports them as adopted() (installed: counters()
    // and remove() work on them, their counters include what they forwarded before).
    bool adopt_leftovers = false;
    // From this many installed flows on, counters() reads them through one shared dump.
    std::size_t bulk_read_from = 256;
    // Prepare the network namespace first (NamespacePreparer) and keep it prepared for the
    // datapath's lifetime; nullopt: the caller prepared it.
    std::optional<NamespacePreparer::Options> prepare_namespace{};
  };

  // Opens ctnetlink in the calling thread's network namespace and deletes every entry carrying
  // options.mark. The namespace must be prepared (NamespacePreparer, by the caller or through
  // options.prepare_namespace): an error if nf_conntrack_acct or ip_forward is not 1 (the nft
  // rule cannot be checked from here).
  static Result<std::unique_ptr<ConntrackDatapath>> open(const Options& options);
  static Result<std::unique_ptr<ConntrackDatapath>> open() { return open(Options{}); }

  // Deletes every entry carrying the mark (best effort).
  ~ConntrackDatapath() override;
  ConntrackDatapath(const ConntrackDatapath&) = delete;
  ConntrackDatapath& operator=(const ConntrackDatapath&) = delete;

  std::string name() const override { return "conntrack"; }
  // Creates the NAT entry and checks, by reading it back, that the kernel set IPS_SRC_NAT and
  // IPS_DST_NAT and the expected tuples. A plain entry made by packets that arrived earlier
  // (EEXIST) is deleted and the creation retried, at most eexist_attempts times.
  Result<void> install(const Flow& flow) override;
  // Deletes the entry and returns its last counters (those of the final read when the entry had
  // already gone, e.g. after a lapsed lease).
  Result<FlowCounters> remove(const Flow& flow) override;
  // Reads both directions' counters (caller = original direction), updates last_activity and
  // re-arms the lease when it runs low (see Lifetime above).
  Result<FlowCounters> counters(const Flow& flow) override;
  std::vector<Flow> flows() const override;

  // Batch paths for thousands of flows (relay restart, mass hang-up): requests go to the kernel
  // in libmnl batches (one round trip per 64 KiB) and the read-back check is ONE dump of our
  // mark instead of one GET per flow. Per flow, the same result as install() / remove();
  // flows whose creation meets EEXIST go through install()'s delete-and-recreate path.
  std::vector<Result<void>> install_batch(std::span<const Flow> flows) override;
  std::vector<Result<FlowCounters>> remove_batch(std::span<const Flow> flows) override;
  // How many batch operations fell back to one request per flow because the batch itself failed
  // (send error, lost acknowledgements); worth a warning in the relay's log.
  std::size_t batch_fallbacks() const { return batch_fallbacks_; }

  const Options& options() const { return options_; }
  // Entries live on in the kernel when the process dies (see Lifetime above).
  bool flows_outlive_process() const override { return true; }
  // The flows of the entries open() kept (adopt_leftovers), in their creation orientation.
  std::vector<Flow> adopted() const override { return adopted_; }
  // Whether `flow` is installed (e.g. adopted at open) in this orientation: an error if not.
  Result<void> claim_adopted(const Flow& flow) override;
  // "conntrack (mark 0x6d707831)".
  std::string leftovers_location() const override;
  // How many dumps counters() took to serve reads in bulk, and how many lease updates it sent.
  std::size_t bulk_reads() const { return bulk_reads_; }
  std::size_t lease_renewals() const { return lease_renewals_; }
  // The longest gap allowed between two counters() calls of a flow (see Lifetime above).
  std::optional<std::chrono::milliseconds> max_poll_interval() const override {
    return max_poll_interval_;
  }

 private:
  using Key = std::tuple<std::uint32_t, std::uint16_t, std::uint32_t, std::uint16_t>;
  struct Installed {
    Flow flow;
    FlowCounters last;  // last counters read (zero at install)
  };
  using CalleeSide = std::pair<Endpoint, Endpoint>;  // (callee_remote, callee_local)
  // Flows accepted earlier in the same batch, indexed like the installed ones.
  struct Pending {
    std::set<Key> keys;
    std::set<CalleeSide> callee_sides;
  };

  ConntrackDatapath(conntrack::ConntrackTable table, conntrack::ConntrackBatch batch,
                    const Options& options, std::chrono::seconds max_poll_interval);
  // Why this flow cannot be installed next to the installed ones and `pending`; "" if it can.
  // Indexed lookups only: a hand-off costs the same with 10 or 50,000 flows installed.
  std::string rejection(const Flow& flow, const Pending& pending) const;
  void remember(const Flow& flow, const FlowCounters& last);
  void forget(std::map<Key, Installed>::iterator it);
  // install() after validation: create (with EEXIST recovery) and check by reading back.
  Result<void> create_and_verify(const Flow& flow);
  static Key key_of(const Flow& flow);
  Result<void> create_checked(const Flow& flow);
  Result<conntrack::EntrySnapshot> read_own(const Flow& flow);
  // read_own() through the shared dump when bulk reads are on (see above).
  Result<conntrack::EntrySnapshot> read_for_counters(const Flow& flow);
  // Drops the dump's entry of this flow: a re-created entry must not be read from an old dump.
  void forget_snapshot(const Flow& flow);
  Result<std::map<Key, Installed>::iterator> find(const Flow& flow, const char* action);

  // First: the table it set up goes last, after the destructor removed our entries.
  std::optional<NamespacePreparer> preparer_;
  conntrack::ConntrackTable table_;
  conntrack::ConntrackBatch batch_;
  Options options_;
  std::chrono::seconds max_poll_interval_;
  std::size_t batch_fallbacks_ = 0;
  std::map<Key, Installed> installed_;
  std::map<CalleeSide, Key> callee_index_;  // every installed flow's callee side
  std::vector<Flow> adopted_;
  // The shared dump of counters(): entries by original tuple, and when it was taken.
  std::map<std::pair<Endpoint, Endpoint>, conntrack::EntrySnapshot> snapshot_;
  std::chrono::steady_clock::time_point snapshot_taken_{};
  std::size_t bulk_reads_ = 0;
  std::size_t lease_renewals_ = 0;
};

}  // namespace mpx::datapath
