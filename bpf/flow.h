/* flow.h: the flow map (MPX_MAP_FLOWS, key/value from mpx_shared.h) and the lookup of a parsed
 * UDP/IPv4 packet in it. Userspace (the eBPF controller in userspace/) inserts and removes entries;
 * the programs look up and update the counters in the value (forward.h).
 */
#ifndef MPX_BPF_FLOW_H
#define MPX_BPF_FLOW_H

#include <linux/bpf.h>
#include <linux/types.h>

#include <bpf/bpf_helpers.h>

#include "bpf/mpx_shared.h"
#include "bpf/parse.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, MPX_FLOW_MAP_DEFAULT_ENTRIES);
  __type(key, struct mpx_flow_key);
  __type(value, struct mpx_flow_value);
} mpx_flows SEC(".maps");

/* The flow a packet belongs to: it arrives at the relay (destination) from the remote (source). */
static __always_inline struct mpx_flow_value *mpx_flow_lookup(const struct mpx_packet *pkt) {
  struct mpx_flow_key key = {
      .relay_addr = pkt->ip->daddr,
      .remote_addr = pkt->ip->saddr,
      .relay_port = pkt->udp->dest,
      .remote_port = pkt->udp->source,
  };
  return bpf_map_lookup_elem(&mpx_flows, &key);
}

#endif /* MPX_BPF_FLOW_H */
