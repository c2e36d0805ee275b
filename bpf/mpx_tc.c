/* mpx_tc.c: the TC entry (SEC("tc"), attached at clsact ingress). Classifies every frame; a
 * UDP/IPv4 packet that matches a flow is rewritten from the flow and redirected: bpf_redirect
 * with the next-hop MACs from bpf_fib_lookup, or bpf_redirect_neigh when the neighbour is not
 * known yet (the kernel resolves it). Everything else, and every flow packet the fast path
 * cannot take (forward.h), is passed unmodified.
 *
 * Checksums go through bpf_l3_csum_replace / bpf_l4_csum_replace rather than plain stores: an skb
 * may be CHECKSUM_PARTIAL (sent locally, the UDP field holds only the pseudo-header sum) or
 * CHECKSUM_COMPLETE (skb->csum must follow the pseudo-header change), and the helpers keep both
 * right (spec/kernel-datapaths.md).
 *
 * At TC ingress the stack has already moved a VLAN tag out of the frame into skb->vlan_tci, so
 * real tagged traffic shows up as vlan_present; the in-frame tag path matters for test runs.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/types.h>
#include <linux/udp.h>

#include <bpf/bpf_helpers.h>

#include "bpf/flow.h"
#include "bpf/forward.h"
#include "bpf/mpx_shared.h"
#include "bpf/parse.h"
#include "bpf/stats.h"

/* Where the checksum fields of an untagged, option-less frame are (the only kind rewritten). */
#define MPX_TC_IP_CHECK_OFFSET (sizeof(struct ethhdr) + offsetof(struct iphdr, check))
#define MPX_TC_UDP_CHECK_OFFSET \
  (sizeof(struct ethhdr) + sizeof(struct iphdr) + offsetof(struct udphdr, check))

/* An skb may carry only part of the frame in its linear area (the rest in page fragments) and
 * packet pointers reach only the linear part. Pull the headers in when they are not there, so a
 * frame is never mistaken for a truncated one. Rare: received frames are at least 60 bytes and
 * drivers put the headers in the linear part. Only constant offsets from packet pointers (see
 * parse.h on CAP_PERFMON).
 */
static __always_inline void mpx_tc_linearize_headers(struct __sk_buff *skb) {
  if ((void *)(long)skb->data + MPX_MAX_HEADERS_LEN <= (void *)(long)skb->data_end) {
    return;
  }
  const __u32 want = skb->len < MPX_MAX_HEADERS_LEN ? skb->len : MPX_MAX_HEADERS_LEN;
  bpf_skb_pull_data(skb, want); /* on failure the parser sees a short frame: TRUNCATED, passed */
}

static __always_inline int mpx_tc_pass(enum mpx_stat stat) {
  mpx_stat_inc(stat);
  return TC_ACT_OK;
}

static __always_inline int mpx_tc_forward(struct __sk_buff *skb, void *data, void *data_end,
                                          struct mpx_packet *pkt, struct mpx_flow_value *flow) {
  if (skb->vlan_present) { /* tag already taken out of the frame: same reason as in-frame */
    return mpx_tc_pass(MPX_STAT_PASS_VLAN);
  }
  const enum mpx_stat unfit = mpx_forward_precheck(pkt);
  if (unfit == MPX_STAT_DROP_TTL_EXCEEDED) {
    mpx_stat_inc(unfit);
    return TC_ACT_SHOT;
  }
  if (unfit != MPX_STAT_MAX) {
    return mpx_tc_pass(unfit);
  }

  struct bpf_fib_lookup fib;
  mpx_fib_params(&fib, pkt, flow, skb->ifindex);
  const long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
  const int resolved = rc == BPF_FIB_LKUP_RET_SUCCESS;
  if (!resolved && rc != BPF_FIB_LKUP_RET_NO_NEIGH) {
    return mpx_tc_pass(mpx_stat_of_fib(rc));
  }
  if (mpx_egress_mismatch(flow, &fib)) {
    return mpx_tc_pass(MPX_STAT_PASS_EGRESS_MISMATCH);
  }

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) { /* parsed already; restated for the verifier */
    return mpx_tc_pass(MPX_STAT_PASS_TRUNCATED);
  }
  const __u16 ip_len = pkt->ip_len;
  const __u32 egress = fib.ifindex;
  struct mpx_csum_diffs diffs;
  mpx_rewrite_ip_udp(pkt, flow, &diffs);
  if (resolved) {
    mpx_rewrite_macs(eth, &fib);
  }
  /* Size 0: the values are precomputed differences. These helpers invalidate packet pointers,
   * so every direct write is above. MARK_MANGLED_0 keeps a zero UDP checksum zero and stores a
   * computed 0 as 0xffff. */
  bpf_l3_csum_replace(skb, MPX_TC_IP_CHECK_OFFSET, 0, diffs.ip_header, 0);
  bpf_l4_csum_replace(skb, MPX_TC_UDP_CHECK_OFFSET, 0, diffs.udp_pseudo,
                      BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0);
  bpf_l4_csum_replace(skb, MPX_TC_UDP_CHECK_OFFSET, 0, diffs.udp_ports, BPF_F_MARK_MANGLED_0);
  mpx_flow_account(flow, ip_len);

  if (resolved) {
    mpx_stat_inc(MPX_STAT_FORWARDED_REDIRECT);
    return bpf_redirect(egress, 0);
  }
  /* No parameters: the kernel looks the next hop up again from the rewritten destination. */
  mpx_stat_inc(MPX_STAT_FORWARDED_REDIRECT_NEIGH);
  return bpf_redirect_neigh(egress, 0, 0, 0);
}

SEC("tc")
int mpx_tc(struct __sk_buff *skb) {
  mpx_tc_linearize_headers(skb);
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;

  struct mpx_packet pkt;
  const enum mpx_parse_result parsed = mpx_parse(data, data_end, skb->len, &pkt);
  if (parsed != MPX_PARSE_UDP4) {
    return mpx_tc_pass(mpx_stat_of_parse(parsed));
  }

  struct mpx_flow_value *flow = mpx_flow_lookup(&pkt);
  if (!flow) {
    return mpx_tc_pass(MPX_STAT_PASS_NO_FLOW);
  }
  return mpx_tc_forward(skb, data, data_end, &pkt, flow);
}

char LICENSE[] SEC("license") = "GPL";
