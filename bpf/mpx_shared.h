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
 * PASS_* means the packet went on to the network stack unchanged. The programs never drop a
 * packet that matches no flow: what the relay does not own is the stack's business. */
enum mpx_stat {
  MPX_STAT_PASS_NO_FLOW = 0,    /* well-formed UDP/IPv4, no flow for its (relay, remote) tuple */
  MPX_STAT_PASS_NOT_IPV4 = 1,   /* ethertype (after at most one 802.1Q tag) is not IPv4 */
  MPX_STAT_PASS_NOT_UDP = 2,    /* IPv4 carrying another protocol */
  MPX_STAT_PASS_FRAGMENT = 3,   /* IPv4 fragment, first (MF) or later (offset != 0) */
  MPX_STAT_PASS_IP_OPTIONS = 4, /* IPv4 header with options (IHL > 5) */
  MPX_STAT_PASS_TRUNCATED = 5,  /* the frame ends inside a header or before IPv4 total length */
  MPX_STAT_PASS_MALFORMED = 6,  /* header fields contradict each other (IHL < 5, UDP length...) */
  MPX_STAT_PASS_FLOW_MATCH = 7, /* a flow matched; passed until the forwarder acts on it */
  MPX_STAT_MAX = 8
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
 * Addresses and ports in network byte order; counters and times in host order. packets, bytes
 * and last_seen_ns are written by the BPF program (bytes counts the IPv4 datagram, last_seen_ns is
 * bpf_ktime_get_ns(), CLOCK_MONOTONIC) and read by userspace for timeouts and statistics. */
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
