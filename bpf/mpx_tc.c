/* mpx_tc.c: the TC entry (SEC("tc"), attached at clsact ingress). For now it classifies every
 * frame, counts why it passes and passes it unmodified; the forwarder (its own issue) will rewrite
 * and redirect packets that match a flow, at the point marked below.
 *
 * At TC ingress the stack has already moved a VLAN tag out of the frame into skb->vlan_tci, so
 * real traffic reaches mpx_parse untagged; the in-frame tag path matters for XDP and test runs.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/types.h>

#include <bpf/bpf_helpers.h>

#include "bpf/flow.h"
#include "bpf/mpx_shared.h"
#include "bpf/parse.h"
#include "bpf/stats.h"

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

SEC("tc")
int mpx_tc(struct __sk_buff *skb) {
  mpx_tc_linearize_headers(skb);
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;

  struct mpx_packet pkt;
  const enum mpx_parse_result parsed = mpx_parse(data, data_end, skb->len, &pkt);
  if (parsed != MPX_PARSE_UDP4) {
    mpx_stat_inc(mpx_stat_of_parse(parsed));
    return TC_ACT_OK;
  }

  struct mpx_flow_value *flow = mpx_flow_lookup(&pkt);
  if (!flow) {
    mpx_stat_inc(MPX_STAT_PASS_NO_FLOW);
    return TC_ACT_OK;
  }
  /* Forwarder goes here: rewrite from *flow with checksum helpers, bpf_redirect_neigh. */
  mpx_stat_inc(MPX_STAT_PASS_FLOW_MATCH);
  return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
