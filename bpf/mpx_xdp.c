/* mpx_xdp.c: the XDP entry (SEC("xdp")). For now it classifies every frame, counts why it passes
 * and passes it unmodified; the forwarder (its own issue) will rewrite and redirect frames that
 * match a flow, at the point marked below.
 */
#include <linux/bpf.h>
#include <linux/types.h>

#include <bpf/bpf_helpers.h>

#include "bpf/flow.h"
#include "bpf/mpx_shared.h"
#include "bpf/parse.h"
#include "bpf/stats.h"

SEC("xdp")
int mpx_xdp(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  /* Not data_end - data: subtracting packet pointers needs CAP_PERFMON at load time (see
   * parse.h). The helper also counts the fragments of a multi-buffer frame. */
  const __u32 pkt_len = (__u32)bpf_xdp_get_buff_len(ctx);

  struct mpx_packet pkt;
  const enum mpx_parse_result parsed = mpx_parse(data, data_end, pkt_len, &pkt);
  if (parsed != MPX_PARSE_UDP4) {
    mpx_stat_inc(mpx_stat_of_parse(parsed));
    return XDP_PASS;
  }

  struct mpx_flow_value *flow = mpx_flow_lookup(&pkt);
  if (!flow) {
    mpx_stat_inc(MPX_STAT_PASS_NO_FLOW);
    return XDP_PASS;
  }
  /* Forwarder goes here: rewrite from *flow, bpf_fib_lookup, redirect. */
  mpx_stat_inc(MPX_STAT_PASS_FLOW_MATCH);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
