/* mpx_shared.h: the records bpf/ programs and userspace/ share — verdict counter indices and the
 * flow map's key and value. Both clang -target bpf (C) and g++ (C++) include this file, so it uses
 * only linux/types.h fixed-width types and no BPF-only macros. A change here changes the map
 * layout seen by both sides: keep the static asserts in step.
 */
#ifndef MPX_BPF_MPX_SHARED_H
#define MPX_BPF_MPX_SHARED_H

#include <linux/types.h>

#ifdef __cplusplus
#define MPX_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define MPX_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Names of the maps in every mpx BPF object, for bpf_object__find_map_by_name(). */
#define MPX_MAP_STATS "mpx_stats"
#define MPX_MAP_FLOWS "mpx_flows"

/* Default size of the flow map; userspace may resize it before load. One entry per latched
 * direction of a relayed port: MediaProxy's default port range (50000:60000) needs 10000. */
#define MPX_FLOW_MAP_DEFAULT_ENTRIES 65536

/* Why a packet got its verdict: one index per reason in the per-CPU counter array (value __u64,
 * summed over CPUs by the reader). Every packet a program sees moves exactly one counter.
 * PASS_* means the packet went on to the network stack UNCHANGED (so the relay's own socket gets
 * it, as before hand-off); FORWARDED_* that it was rewritten and sent on; DROP_* that it was
 * dropped. The programs never drop a packet that matches no flow: what the relay does not own is
 * the stack's business. Indices 0-6 predate the forwarder and keep their numbers. */
enum mpx_stat {
  MPX_STAT_PASS_NO_FLOW = 0,    /* well-formed UDP/IPv4, no flow for its (relay, remote) tuple */
  MPX_STAT_PASS_NOT_IPV4 = 1,   /* ethertype (after at most one 802.1Q tag) is not IPv4 */
  MPX_STAT_PASS_NOT_UDP = 2,    /* IPv4 carrying another protocol */
  MPX_STAT_PASS_FRAGMENT = 3,   /* IPv4 fragment, first (MF) or later (offset != 0) */
  MPX_STAT_PASS_IP_OPTIONS = 4, /* IPv4 header with options (IHL > 5) */
  MPX_STAT_PASS_TRUNCATED = 5,  /* the frame ends inside a header or before IPv4 total length */
  MPX_STAT_PASS_MALFORMED = 6,  /* header fields contradict each other (IHL < 5, UDP length...) */
  /* A flow matched and the packet was rewritten and sent on: */
  MPX_STAT_FORWARDED_TX = 7,              /* XDP_TX: out the interface it came in on */
  MPX_STAT_FORWARDED_REDIRECT = 8,        /* bpf_redirect to another interface (TC: any) */
  MPX_STAT_FORWARDED_REDIRECT_NEIGH = 9,  /* TC only: bpf_redirect_neigh, neighbour unknown */
  /* A flow matched but the packet was passed unchanged: */
  MPX_STAT_PASS_VLAN = 10,            /* 802.1Q-tagged: the egress tag cannot be known here */
  MPX_STAT_PASS_NO_NEIGH = 11,        /* XDP: next hop has no neighbour entry yet */
  MPX_STAT_PASS_FIB_NO_ROUTE = 12,    /* fib: blackhole, unreachable, prohibit, not forwarded */
  MPX_STAT_PASS_FIB_FWD_DISABLED = 13, /* fib: IPv4 forwarding is off on the ingress interface */
  MPX_STAT_PASS_FIB_FRAG_NEEDED = 14, /* fib: the datagram exceeds the egress MTU */
  MPX_STAT_PASS_FIB_FAILED = 15,      /* fib: any other failure (lwt, no source, errno) */
  MPX_STAT_PASS_EGRESS_MISMATCH = 16, /* the route leaves by another interface than the flow's */
  /* A flow matched and the packet was dropped: */
  MPX_STAT_DROP_TTL_EXCEEDED = 17, /* TTL <= 1: a forwarding router drops it (RFC 1812 5.3.1) */
  MPX_STAT_MAX = 18
};

/* Flow map key: a packet arriving at relay_addr:relay_port FROM remote_addr:remote_port. The remote
 * side is part of the key so a packet from anyone else finds nothing (the source gate).
 * All fields in network byte order. Addresses first so the struct has no padding: a hash key with
 * padding would hash whatever bytes the padding happens to hold. */
struct mpx_flow_key {
  __be32 relay_addr;
  __be32 remote_addr;
  __be16 relay_port;
  __be16 remote_port;
};

/* Flow map value: how to rewrite and where to send a matching packet, and its accounting.
 * Addresses and ports in network byte order; counters and times in host order.
 * egress_ifindex: 0 lets bpf_fib_lookup choose the egress; otherwise the route must leave by this
 * interface or the packet is passed (MPX_STAT_PASS_EGRESS_MISMATCH), so a route change never sends
 * media out an interface the controller did not prepare.
 * packets, bytes and last_seen_ns are written by the BPF program for FORWARDED packets only
 * (passed packets reach the relay's socket, which counts them itself; dropped ones are not
 * relayed): bytes counts the IPv4 datagram as received, last_seen_ns is bpf_ktime_get_ns()
 * (CLOCK_MONOTONIC). Userspace reads them for timeouts and statistics. */
struct mpx_flow_value {
  __be32 new_src_addr;
  __be32 new_dst_addr;
  __be16 new_src_port;
  __be16 new_dst_port;
  __u32 egress_ifindex;
  __u64 packets;
  __u64 bytes;
  __u64 last_seen_ns;
};

MPX_STATIC_ASSERT(sizeof(struct mpx_flow_key) == 12, "mpx_flow_key must have no padding");
MPX_STATIC_ASSERT(sizeof(struct mpx_flow_value) == 40, "mpx_flow_value must have no padding");

#endif /* MPX_BPF_MPX_SHARED_H */
