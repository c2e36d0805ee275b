// conntrack_objects: nf_conntrack objects for IPv4/UDP tuples and NAT entries, and snapshots of
// what the kernel returns.
#include "userspace/conntrack/conntrack_objects.hpp"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>

#include <cstdint>
#include <utility>

#include "userspace/conntrack/flow_text.hpp"

namespace mpx::datapath::conntrack {
namespace {

Result<std::uint32_t> ipv4_network_order(const Endpoint& endpoint) {
  if (!endpoint.address().is_v4()) {
    return Error{"conntrack datapath supports IPv4 only, got " + describe(endpoint)};
  }
  return htonl(endpoint.address().to_v4().to_uint());
}

Endpoint endpoint_from(std::uint32_t ip_network_order, std::uint16_t port_network_order) {
  return Endpoint(boost::asio::ip::address_v4(ntohl(ip_network_order)), ntohs(port_network_order));
}

Result<ConntrackPtr> new_conntrack() {
  ConntrackPtr ct(nfct_new());
  if (!ct) {
    return Error{"conntrack: out of memory allocating an entry"};
  }
  return ct;
}

}  // namespace

void ConntrackDeleter::operator()(nf_conntrack* ct) const noexcept { nfct_destroy(ct); }

// An object carrying only the original tuple src -> dst: enough for GET, UPDATE and DESTROY,
// which the kernel looks up in both directions' hashes.
Result<ConntrackPtr> tuple_object(const Endpoint& src, const Endpoint& dst) {
  auto ct = new_conntrack();
  if (!ct) {
    return ct.error();
  }
  auto src_ip = ipv4_network_order(src);
  if (!src_ip) {
    return src_ip.error();
  }
  auto dst_ip = ipv4_network_order(dst);
  if (!dst_ip) {
    return dst_ip.error();
  }
  nf_conntrack* raw = ct.value().get();
  nfct_set_attr_u8(raw, ATTR_L3PROTO, AF_INET);
  nfct_set_attr_u8(raw, ATTR_L4PROTO, IPPROTO_UDP);
  nfct_set_attr_u32(raw, ATTR_IPV4_SRC, src_ip.value());
  nfct_set_attr_u32(raw, ATTR_IPV4_DST, dst_ip.value());
  nfct_set_attr_u16(raw, ATTR_PORT_SRC, htons(src.port()));
  nfct_set_attr_u16(raw, ATTR_PORT_DST, htons(dst.port()));
  return std::move(ct.value());
}

EntrySnapshot snapshot_of(const nf_conntrack* ct) {
  EntrySnapshot s;
  s.orig_src = endpoint_from(nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_SRC),
                             nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
  s.orig_dst = endpoint_from(nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST),
                             nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
  s.reply_src = endpoint_from(nfct_get_attr_u32(ct, ATTR_REPL_IPV4_SRC),
                              nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
  s.reply_dst = endpoint_from(nfct_get_attr_u32(ct, ATTR_REPL_IPV4_DST),
                              nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
  s.status = nfct_get_attr_u32(ct, ATTR_STATUS);
  s.mark = nfct_get_attr_u32(ct, ATTR_MARK);
  s.timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
  s.orig_packets = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_PACKETS);
  s.orig_bytes = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_BYTES);
  s.reply_packets = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_PACKETS);
  s.reply_bytes = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_BYTES);
  return s;
}

Result<ConntrackPtr> nat_object(const NatEntrySpec& spec) {
  auto ct = tuple_object(spec.src, spec.dst);
  if (!ct) {
    return ct.error();
  }
  auto dnat_ip = ipv4_network_order(spec.dnat_to);
  if (!dnat_ip) {
    return dnat_ip.error();
  }
  auto snat_ip = ipv4_network_order(spec.snat_to);
  if (!snat_ip) {
    return snat_ip.error();
  }
  nf_conntrack* raw = ct.value().get();
  nfct_set_attr_u32(raw, ATTR_DNAT_IPV4, dnat_ip.value());
  nfct_set_attr_u16(raw, ATTR_DNAT_PORT, htons(spec.dnat_to.port()));
  nfct_set_attr_u32(raw, ATTR_SNAT_IPV4, snat_ip.value());
  nfct_set_attr_u16(raw, ATTR_SNAT_PORT, htons(spec.snat_to.port()));
  nfct_set_attr_u32(raw, ATTR_TIMEOUT, spec.timeout_seconds);
  nfct_set_attr_u32(raw, ATTR_MARK, spec.mark);
  if (spec.fixed_timeout) {
    nfct_set_attr_u32(raw, ATTR_STATUS, IPS_FIXED_TIMEOUT);
  }
  // The reply tuple comes from the original tuple plus the NAT targets.
  nfct_setobjopt(raw, NFCT_SOPT_SETUP_REPLY);
  return std::move(ct.value());
}

}  // namespace mpx::datapath::conntrack
