/* forward.h: what the XDP and TC forwarders share once a packet matched a flow: the checks that
 * keep it away from the fast path (VLAN tag, TTL), the bpf_fib_lookup parameters for the
 * REWRITTEN packet, the verdict counter of each lookup result, the header rewrite with the
 * RFC 1624 checksum differences it causes, and the per-flow accounting.
 *
 * The lookup runs before anything is written, so every pass verdict leaves the packet unchanged:
 * a rewritten packet handed to the stack would carry the relay's own address as its source and
 * be dropped as a martian (spec/kernel-datapaths.md).
 */
#ifndef MPX_BPF_FORWARD_H
#define MPX_BPF_FORWARD_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/types.h>
#include <linux/udp.h>

#include <bpf/bpf_helpers.h>

#include "bpf/mpx_shared.h"
#include "bpf/parse.h"

#define MPX_AF_INET 2 /* sys/socket.h is not usable with -target bpf */

/* Ones'-complement arithmetic on 32-bit partial sums (end-around carry), in the byte order the
 * words are stored in: the ones'-complement sum commutes with byte swapping (RFC 1071), so
 * network-order words can be summed as loaded and the result stored as is. */
static __always_inline __u32 mpx_csum_add(__u32 sum, __u32 addend) {
  sum += addend;
  return sum + (sum < addend);
}

/* Adds the change of one 16-bit word from old_word to new_word: ~m + m' (RFC 1624, eqn. 3). */
static __always_inline __u32 mpx_csum_diff16(__u32 sum, __u16 old_word, __u16 new_word) {
  return mpx_csum_add(mpx_csum_add(sum, (__u16)~old_word), new_word);
}

static __always_inline __u32 mpx_csum_diff32(__u32 sum, __u32 old_value, __u32 new_value) {
  sum = mpx_csum_diff16(sum, (__u16)(old_value >> 16), (__u16)(new_value >> 16));
  return mpx_csum_diff16(sum, (__u16)old_value, (__u16)new_value);
}

static __always_inline __u16 mpx_csum_fold(__u32 sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)sum;
}

/* HC' = ~(~HC + ~m + m') (RFC 1624, eqn. 3). Unlike eqn. 2 it never turns a checksum into -0
 * (0xffff) where a from-scratch computation gives 0x0000, and an incoming 0xffff (a sum of -0)
 * is handled like 0x0000. UDP callers map a result of 0 to 0xffff themselves (RFC 768). */
static __always_inline __u16 mpx_csum_apply(__u16 check, __u32 diff) {
  return (__u16)~mpx_csum_fold(mpx_csum_add(diff, (__u16)~check));
}

/* The checksum changes a rewrite causes, kept apart because TC's helpers treat fields of the UDP
 * pseudo-header (the addresses) differently from the ports on CHECKSUM_PARTIAL skbs. */
struct mpx_csum_diffs {
  __u32 ip_header;  /* addresses + TTL: for the IPv4 header checksum */
  __u32 udp_pseudo; /* addresses, as part of the UDP pseudo-header */
  __u32 udp_ports;  /* source and destination port */
};

/* Why a matching packet is not forwarded before any lookup, or MPX_STAT_MAX to go on.
 * A tagged frame is passed: its egress is a VLAN device whose tag and lower device
 * bpf_fib_lookup does not report, so neither XDP_TX (same tag) nor a redirect would be right.
 * TTL <= 1 is dropped, as the kernel's forwarding path (and the conntrack NAT datapath) does;
 * the ICMP time exceeded the kernel would also send is not sent. */
static __always_inline enum mpx_stat mpx_forward_precheck(const struct mpx_packet *pkt) {
  if (pkt->l3_offset != sizeof(struct ethhdr)) {
    return MPX_STAT_PASS_VLAN;
  }
  if (pkt->ip->ttl <= 1) {
    return MPX_STAT_DROP_TTL_EXCEEDED;
  }
  return MPX_STAT_MAX;
}

/* Lookup parameters for the packet as it will leave: the flow's new addresses and ports, the
 * received datagram length (for the egress MTU check), ingress_ifindex for the input route. */
static __always_inline void mpx_fib_params(struct bpf_fib_lookup *fib,
                                           const struct mpx_packet *pkt,
                                           const struct mpx_flow_value *flow,
                                           __u32 ingress_ifindex) {
  __builtin_memset(fib, 0, sizeof(*fib));
  fib->family = MPX_AF_INET;
  fib->tos = pkt->ip->tos;
  fib->l4_protocol = IPPROTO_UDP;
  fib->sport = flow->new_src_port;
  fib->dport = flow->new_dst_port;
  fib->tot_len = pkt->ip_len;
  fib->ipv4_src = flow->new_src_addr;
  fib->ipv4_dst = flow->new_dst_addr;
  fib->ifindex = ingress_ifindex;
}

/* The pass counter for a bpf_fib_lookup result other than SUCCESS (negative: an errno). */
static __always_inline enum mpx_stat mpx_stat_of_fib(long rc) {
  switch (rc) {
    case BPF_FIB_LKUP_RET_NO_NEIGH:
      return MPX_STAT_PASS_NO_NEIGH;
    case BPF_FIB_LKUP_RET_BLACKHOLE:
    case BPF_FIB_LKUP_RET_UNREACHABLE:
    case BPF_FIB_LKUP_RET_PROHIBIT:
    case BPF_FIB_LKUP_RET_NOT_FWDED:
      return MPX_STAT_PASS_FIB_NO_ROUTE;
    case BPF_FIB_LKUP_RET_FWD_DISABLED:
      return MPX_STAT_PASS_FIB_FWD_DISABLED;
    case BPF_FIB_LKUP_RET_FRAG_NEEDED:
      return MPX_STAT_PASS_FIB_FRAG_NEEDED;
    default:
      return MPX_STAT_PASS_FIB_FAILED;
  }
}

/* The flow pins its egress and the route goes elsewhere (see mpx_flow_value). */
static __always_inline int mpx_egress_mismatch(const struct mpx_flow_value *flow,
                                               const struct bpf_fib_lookup *fib) {
  return flow->egress_ifindex != 0 && flow->egress_ifindex != fib->ifindex;
}

/* Writes the flow's addresses and ports and the decremented TTL into the headers and returns
 * the checksum differences; the checksum fields themselves are left to the caller (XDP writes
 * them, TC lets the kernel's csum helpers do it). */
static __always_inline void mpx_rewrite_ip_udp(struct mpx_packet *pkt,
                                               const struct mpx_flow_value *flow,
                                               struct mpx_csum_diffs *diffs) {
  struct iphdr *ip = pkt->ip;
  struct udphdr *udp = pkt->udp;

  __u32 addresses = mpx_csum_diff32(0, ip->saddr, flow->new_src_addr);
  addresses = mpx_csum_diff32(addresses, ip->daddr, flow->new_dst_addr);
  ip->saddr = flow->new_src_addr;
  ip->daddr = flow->new_dst_addr;

  /* TTL shares its 16-bit checksum word with the protocol field. */
  __be16 *ttl_word = (__be16 *)&ip->ttl;
  const __u16 old_ttl_word = *ttl_word;
  ip->ttl -= 1;
  diffs->ip_header = mpx_csum_diff16(addresses, old_ttl_word, *ttl_word);
  diffs->udp_pseudo = addresses;

  __u32 ports = mpx_csum_diff16(0, udp->source, flow->new_src_port);
  ports = mpx_csum_diff16(ports, udp->dest, flow->new_dst_port);
  udp->source = flow->new_src_port;
  udp->dest = flow->new_dst_port;
  diffs->udp_ports = ports;
}

/* Next-hop MACs from a successful lookup. */
static __always_inline void mpx_rewrite_macs(struct ethhdr *eth, const struct bpf_fib_lookup *fib) {
  __builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
  __builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
}

/* Per-flow accounting of a forwarded packet. Another CPU may forward the same flow at the same
 * time (RSS spreads by 4-tuple, but TC and XDP on several interfaces do not): the counters are
 * atomic adds; last_seen_ns is a plain store, any CPU's recent time being good enough. */
static __always_inline void mpx_flow_account(struct mpx_flow_value *flow, __u16 ip_len) {
  __sync_fetch_and_add(&flow->packets, 1);
  __sync_fetch_and_add(&flow->bytes, ip_len);
  flow->last_seen_ns = bpf_ktime_get_ns();
}

#endif /* MPX_BPF_FORWARD_H */
