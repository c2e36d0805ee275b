// BpfDatapath: the eBPF Datapath back-end, a facade in Katran's manner over the XDP or TC
// program of bpf/ (embedded in this library): it loads the program, pins its maps, attaches it
// to the relay's interfaces and turns each Flow into two entries of the flow map, one per
// direction. The kernel program then rewrites and forwards matching packets before they reach
// the relay's sockets; packets from anyone but the latched remote match no entry and go on to
// the stack as before (the source gate).
//
// Testing mode (Options::testing): no kernel call at all. The maps are in memory
// (MemoryFlowMaps), interfaces are not looked up, nothing is attached; install, remove,
// counters, batches, errors and the restart/adoption logic behave as with the kernel, and
// testing_maps() lets a unit test play the BPF program's part.
//
// Restart and crash (issue 5, point 4): XDP and TC attachments made without bpf_link survive
// the process, and so do maps an attached program uses. After a kill -9 the programs stay
// attached and keep forwarding every installed flow through the (pinned) flow map; nobody
// removes entries, so those flows forward until a new instance takes over. open() with the same
// pin_dir then reuses the pinned maps with their entries, replaces the old programs (found by
// their name, mpx_xdp / mpx_tc) with its own atomically, and reports the flows it found as
// adopted(): they are installed (counters(), remove() work on them) and the relay either
// re-adopts them for the sessions it recovers or removes them. Entries without their other
// direction (a crash mid-install) are deleted at open (discarded_at_open()). Without pin_dir,
// open() still replaces a crashed instance's programs, but their flows are lost with them.
//
// Clean stop: the destructor detaches the programs (where they are still ours), removes the
// pins (and pin_dir when empty): nothing of ours stays. keep_pinned(true) instead leaves
// EVERYTHING in place, programs attached and maps pinned with their entries, as a crash would,
// for a restart that must not cut calls (upgrade): the next open() adopts it all.
//
// Counters: packets and bytes (whole IPv4 datagrams) are those the program FORWARDED; packets
// the relay's sockets saw before the hand-off are the relay's to add. last_activity comes from
// the entries' last_seen_ns (bpf_ktime_get_ns, CLOCK_MONOTONIC = steady_clock), exact to the
// packet. remove() reads and deletes each entry atomically, so no forwarded packet is missed.
// An adopted flow's counters include what the program forwarded before the restart (the
// entries lived on).
//
// Not thread-safe: drive it from the relay's event loop. Kernel mode needs CAP_BPF,
// CAP_NET_ADMIN (and CAP_SYS_ADMIN to return to its namespace from another thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "userspace/bpf/flow_entries.hpp"
#include "userspace/datapath.hpp"

namespace mpx::datapath {

namespace bpf {
class FlowMaps;
class MemoryFlowMaps;
class LoadedProgram;
class Attachments;
class NetnsHome;
}  // namespace bpf

class BpfDatapath final : public Datapath {
 public:
  enum class Program { xdp, tc };
  enum class XdpMode { native, generic };
  struct Options {
    Program program = Program::xdp;
    XdpMode xdp_mode = XdpMode::native;
    std::vector<std::string> interfaces;  // attach to each (ingress); must exist
    std::filesystem::path pin_dir;        // bpffs directory for the maps (created); empty: none
    std::uint32_t max_flows = 65536;      // map entries = directions (2 per Flow)
    bool testing = false;                 // no kernel calls: in-memory maps, for unit tests
  };

  // Loads, pins (or reuses pinned maps) and attaches in the calling thread's network namespace.
  // Errors name what failed: a missing interface, IPv4 forwarding off on an interface (the
  // program's route lookups would all fail), another program already attached, a pinned flow
  // map of another size, a pin_dir that is not on a bpffs, a verifier rejection.
  static Result<std::unique_ptr<BpfDatapath>> open(const Options& options);

  ~BpfDatapath() override;
  BpfDatapath(const BpfDatapath&) = delete;
  BpfDatapath& operator=(const BpfDatapath&) = delete;

  std::string name() const override;  // "xdp" or "tc"
  // Two map entries (BPF_NOEXIST), one per direction; both or neither.
  Result<void> install(const Flow& flow) override;
  Result<FlowCounters> remove(const Flow& flow) override;
  Result<FlowCounters> counters(const Flow& flow) override;
  std::vector<Flow> flows() const override;

  // Per flow, the same result as install() / remove(). install_batch writes all valid flows
  // with ONE bpf_map_update_batch; if the batch stops early, the rest go one by one (counted in
  // batch_fallbacks()). One difference: install() refuses (EEXIST) a key present in the map
  // but not installed by this datapath (someone else writing to the pinned map); the batch
  // overwrites it, as the kernel's batch update refuses BPF_NOEXIST (EINVAL).
  // remove_batch uses the atomic lookup-and-delete per entry.
  std::vector<Result<void>> install_batch(std::span<const Flow> flows) override;
  std::vector<Result<FlowCounters>> remove_batch(std::span<const Flow> flows) override;
  std::size_t batch_fallbacks() const { return batch_fallbacks_; }

  // Every verdict counter of the program, summed over CPUs, by name (verdict_names.hpp), zeros
  // included; counting continues across restarts when the maps are pinned. Empty on read error.
  std::map<std::string, std::uint64_t> verdict_counters() const;
  // "xdp native on caller0,callee0", "xdp generic on ...", "tc ingress on ..."; " (testing)"
  // appended in testing mode.
  std::string attach_mode() const;

  // See "Clean stop" above.
  void keep_pinned(bool keep) { keep_pinned_ = keep; }
  // The program stays attached and the maps pinned when the process dies (see above).
  bool flows_outlive_process() const override { return true; }
  // Flows found in a reused pinned map at open() (a previous instance's), oriented as
  // flow_entries.hpp's pair_entries() says (caller side = the lower relay port).
  std::vector<Flow> adopted() const override { return adopted_; }
  std::size_t discarded_at_open() const { return discarded_at_open_; }
  // A restarted relay re-adopting one of those flows for a session it recovered: `flow` is the
  // relay's own orientation, which may be the reverse of adopted()'s (the caller side is not
  // stored in the map). Afterwards counters() and remove() take `flow` in that orientation; the
  // map entries are untouched (no packet is lost). Error when no installed flow matches `flow`
  // in either orientation (its entries are gone: the call ended or someone removed it).
  Result<void> claim_adopted(const Flow& flow) override;
  // The pin directory ("(maps not pinned)" without one).
  std::string leftovers_location() const override;
  // attach_mode() and verdict_counters().
  std::optional<DatapathDetails> details() const override;
  // Interfaces where open() replaced a previous mpx program.
  std::vector<std::string> replaced_attachments() const;

  const Options& options() const { return options_; }
  // The in-memory maps in testing mode (nullptr otherwise), to forward packets and move verdict
  // counters as the BPF program would, or to inject map errors.
  bpf::MemoryFlowMaps* testing_maps() const;

 private:
  struct Installed {
    Flow flow;
    bpf::FlowEntries entries;
  };
  using Table = std::map<mpx_flow_key, Installed, bpf::KeyLess>;  // by caller-direction key

  explicit BpfDatapath(const Options& options);
  Result<void> adopt_existing();
  // Why flow cannot be installed next to the installed flows and `pending` keys; "" if it can.
  std::string rejection(const Flow& flow,
                        const std::map<mpx_flow_key, bool, bpf::KeyLess>& pending) const;
  Result<void> write_pair(const Installed& installed);
  Result<Table::iterator> find(const Flow& flow, const char* action);
  Result<FlowCounters> take(Table::iterator installed);
  std::string flow_error(const char* action, const Flow& flow, const std::string& why) const;

  Options options_;
  std::unique_ptr<bpf::NetnsHome> home_;
  std::unique_ptr<bpf::LoadedProgram> program_;
  std::unique_ptr<bpf::Attachments> attachments_;
  std::shared_ptr<bpf::MemoryFlowMaps> memory_maps_;
  std::unique_ptr<bpf::FlowMaps> kernel_maps_;
  bpf::FlowMaps* maps_ = nullptr;
  Table installed_;
  std::map<mpx_flow_key, mpx_flow_key, bpf::KeyLess> callee_index_;  // callee key -> caller key
  std::vector<Flow> adopted_;
  std::size_t discarded_at_open_ = 0;
  std::size_t batch_fallbacks_ = 0;
  bool keep_pinned_ = false;
};

}  // namespace mpx::datapath
