/* mpx_xdp.c: the XDP entry (SEC("xdp")). Classifies every frame; a UDP/IPv4 packet that matches
 * a flow is rewritten from the flow (addresses, ports, TTL, checksums, next-hop MACs) and sent out
 * with XDP_TX when the route leaves by the ingress interface, bpf_redirect otherwise. Everything
 * else, and every flow packet the fast path cannot take (forward.h), is passed unmodified.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/types.h>

#include <bpf/bpf_helpers.h>

#include "bpf/flow.h"
#include "bpf/forward.h"
#include "bpf/mpx_shared.h"
#include "bpf/parse.h"
#include "bpf/stats.h"

static __always_inline int mpx_xdp_pass(enum mpx_stat stat) {
  mpx_stat_inc(stat);
  return XDP_PASS;
}

static __always_inline int mpx_xdp_forward(struct xdp_md *ctx, void *data, void *data_end,
                                           struct mpx_packet *pkt, struct mpx_flow_value *flow) {
  const enum mpx_stat unfit = mpx_forward_precheck(pkt);
  if (unfit == MPX_STAT_DROP_TTL_EXCEEDED) {
    mpx_stat_inc(unfit);
    return XDP_DROP;
  }
  if (unfit != MPX_STAT_MAX) {
    return mpx_xdp_pass(unfit);
  }

  struct bpf_fib_lookup fib;
  mpx_fib_params(&fib, pkt, flow, ctx->ingress_ifindex);
  const long rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
  if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
    /* NO_NEIGH included: the stack delivers the packet to the relay's socket, whose reply
     * traffic resolves the neighbour for the packets after it. */
    return mpx_xdp_pass(mpx_stat_of_fib(rc));
  }
  if (mpx_egress_mismatch(flow, &fib)) {
    return mpx_xdp_pass(MPX_STAT_PASS_EGRESS_MISMATCH);
  }

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) { /* parsed already; restated for the verifier */
    return mpx_xdp_pass(MPX_STAT_PASS_TRUNCATED);
  }
  const __u16 ip_len = pkt->ip_len;
  struct mpx_csum_diffs diffs;
  mpx_rewrite_ip_udp(pkt, flow, &diffs);
  pkt->ip->check = mpx_csum_apply(pkt->ip->check, diffs.ip_header);
  if (pkt->udp->check != 0) { /* 0: the sender sent no checksum, and still sends none */
    const __u16 check =
        mpx_csum_apply(pkt->udp->check, mpx_csum_add(diffs.udp_pseudo, diffs.udp_ports));
    pkt->udp->check = check != 0 ? check : 0xffff;
  }
  mpx_rewrite_macs(eth, &fib);
  mpx_flow_account(flow, ip_len);

  if (fib.ifindex == ctx->ingress_ifindex) {
    mpx_stat_inc(MPX_STAT_FORWARDED_TX);
    return XDP_TX;
  }
  mpx_stat_inc(MPX_STAT_FORWARDED_REDIRECT);
  return bpf_redirect(fib.ifindex, 0);
}

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
    return mpx_xdp_pass(mpx_stat_of_parse(parsed));
  }

  struct mpx_flow_value *flow = mpx_flow_lookup(&pkt);
  if (!flow) {
    return mpx_xdp_pass(MPX_STAT_PASS_NO_FLOW);
  }
  return mpx_xdp_forward(ctx, data, data_end, &pkt, flow);
}

char LICENSE[] SEC("license") = "GPL";
