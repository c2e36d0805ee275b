/* baseline.c: the baseline of the bpf_program suite (bench/README.md): an XDP and a TC program
 * that return XDP_PASS / TC_ACT_OK at once. Run through BPF_PROG_TEST_RUN exactly like the mpx
 * forwarders, their time is what the kernel's test harness and the program call cost by
 * themselves, so "forwarder minus baseline" is the forwarder's own work per packet.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench_xdp_pass(struct xdp_md *ctx) {
  (void)ctx;
  return XDP_PASS;
}

SEC("tc")
int bench_tc_ok(struct __sk_buff *skb) {
  (void)skb;
  return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
