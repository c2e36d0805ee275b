// ConntrackTable: the netlink conversation with the kernel's conntrack table of ONE network
// namespace (the one the calling thread is in when open() runs; the socket stays bound to it),
// through libnetfilter_conntrack. IPv4/UDP only. It creates DNAT+SNAT entries, reads, re-arms,
// deletes and lists them; it knows nothing of relays or sessions. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/result.hpp"
#include "userspace/datapath.hpp"

struct nfct_handle;

namespace mpx::datapath::conntrack {

// What the kernel holds for one entry (counters need net.netfilter.nf_conntrack_acct=1 at the
// time the entry was created).
struct EntrySnapshot {
  Endpoint orig_src;
  Endpoint orig_dst;
  Endpoint reply_src;
  Endpoint reply_dst;
  std::uint32_t status = 0;  // IPS_* bits
  std::uint32_t mark = 0;
  std::uint32_t timeout = 0;  // seconds left
  std::uint64_t orig_packets = 0;
  std::uint64_t orig_bytes = 0;
  std::uint64_t reply_packets = 0;
  std::uint64_t reply_bytes = 0;
};

// The entry to create: original tuple src -> dst, DNAT to dnat_to, SNAT to snat_to; the reply
// tuple (dnat_to -> snat_to) is derived by the library, never passed pre-translated (that is
// accepted by the kernel but sets no NAT status bit and rewrites nothing).
struct NatEntrySpec {
  Endpoint src;
  Endpoint dst;
  Endpoint dnat_to;
  Endpoint snat_to;
  std::uint32_t mark = 0;
  std::uint32_t timeout_seconds = 0;
  bool fixed_timeout = false;  // IPS_FIXED_TIMEOUT: traffic does not refresh the timeout
};

enum class CreateOutcome { kCreated, kExists };

class ConntrackTable {
 public:
  // Opens a ctnetlink socket in the calling thread's current network namespace.
  static Result<ConntrackTable> open();

  ConntrackTable(ConntrackTable&&) noexcept;
  ConntrackTable& operator=(ConntrackTable&&) noexcept;
  ~ConntrackTable();

  // kExists when an entry clashing with either tuple exists (EEXIST); other failures are errors.
  Result<CreateOutcome> create_nat(const NatEntrySpec& spec);
  // The entry that has src -> dst as its original OR reply tuple; nullopt when there is none.
  Result<std::optional<EntrySnapshot>> get(const Endpoint& src, const Endpoint& dst);
  // Re-arms the timeout of the entry found by src -> dst; false when there is none.
  Result<bool> set_timeout(const Endpoint& src, const Endpoint& dst, std::uint32_t seconds);
  // Deletes the entry found by src -> dst (either direction); false when there is none.
  Result<bool> destroy(const Endpoint& src, const Endpoint& dst);
  // Every IPv4 entry carrying exactly this mark.
  Result<std::vector<EntrySnapshot>> dump_marked(std::uint32_t mark);
  // Deletes every IPv4 entry carrying this mark; returns how many were deleted.
  Result<std::size_t> destroy_marked(std::uint32_t mark);

 private:
  struct HandleCloser {
    void operator()(nfct_handle* handle) const noexcept;
  };
  explicit ConntrackTable(nfct_handle* handle);

  std::unique_ptr<nfct_handle, HandleCloser> handle_;
};

}  // namespace mpx::datapath::conntrack
