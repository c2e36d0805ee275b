// conntrack_objects: builds and reads libnetfilter_conntrack objects (nf_conntrack) for IPv4/UDP
// tuples and NAT entries; shared by the synchronous table and the batch sender.
#pragma once

#include <memory>

#include "common/result.hpp"
#include "userspace/conntrack/conntrack_table.hpp"

struct nf_conntrack;

namespace mpx::datapath::conntrack {

struct ConntrackDeleter {
  void operator()(nf_conntrack* ct) const noexcept;
};
using ConntrackPtr = std::unique_ptr<nf_conntrack, ConntrackDeleter>;

// An object carrying only the original tuple src -> dst: enough for GET, UPDATE and DESTROY,
// which the kernel looks up in both directions' hashes.
Result<ConntrackPtr> tuple_object(const Endpoint& src, const Endpoint& dst);
// A complete NAT entry for CREATE (reply tuple derived with NFCT_SOPT_SETUP_REPLY).
Result<ConntrackPtr> nat_object(const NatEntrySpec& spec);
EntrySnapshot snapshot_of(const nf_conntrack* ct);

}  // namespace mpx::datapath::conntrack
