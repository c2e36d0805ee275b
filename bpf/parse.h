/* parse.h: bounds-checked parsing of Ethernet (+ at most one 802.1Q tag), IPv4 and UDP for the XDP
 * and TC entries. It reads, never writes, and classifies every frame into exactly one
 * mpx_parse_result; only MPX_PARSE_UDP4 fills in the header pointers the forwarder may use.
 */
#ifndef MPX_BPF_PARSE_H
#define MPX_BPF_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/types.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* The kernel keeps these in non-uapi headers (net/ip.h, linux/if_vlan.h). */
#define MPX_IP_MF 0x2000
#define MPX_IP_OFFSET 0x1fff

struct mpx_vlan_hdr {
  __be16 tci;
  __be16 encapsulated_proto;
};

/* Longest header chain the forwarder needs in the linear part of a packet:
 * Ethernet + one VLAN tag + option-less IPv4 + UDP. */
#define MPX_MAX_HEADERS_LEN                                                     \
  (sizeof(struct ethhdr) + sizeof(struct mpx_vlan_hdr) + sizeof(struct iphdr) + \
   sizeof(struct udphdr))

enum mpx_parse_result {
  MPX_PARSE_UDP4 = 0, /* option-less, unfragmented IPv4 carrying a complete UDP header */
  MPX_PARSE_NOT_IPV4,
  MPX_PARSE_NOT_UDP,
  MPX_PARSE_FRAGMENT,
  MPX_PARSE_IP_OPTIONS,
  MPX_PARSE_TRUNCATED,
  MPX_PARSE_MALFORMED,
};

/* Where the headers of a MPX_PARSE_UDP4 packet are. Pointers are into the packet and are only
 * valid until the next helper that may move packet data (bpf_skb_pull_data, bpf_xdp_adjust_head).
 */
struct mpx_packet {
  struct iphdr *ip;
  struct udphdr *udp;
  __u32 l3_offset; /* bytes from the start of the frame to the IPv4 header (14 or 18) */
  __u16 ip_len;    /* IPv4 total length, host order */
};

/* IPv4 + UDP at a CONSTANT l3_offset (each call site passes a literal): packet pointer plus
 * variable offset is refused by the verifier unless the loader has CAP_PERFMON (Spectre v1
 * hardening), and these programs are meant to load with CAP_BPF + CAP_NET_ADMIN only. */
static __always_inline enum mpx_parse_result mpx_parse_ipv4_udp(void *data, void *data_end,
                                                                __u32 pkt_len, __u32 l3_offset,
                                                                struct mpx_packet *pkt) {
  struct iphdr *ip = data + l3_offset;
  if ((void *)(ip + 1) > data_end) {
    return MPX_PARSE_TRUNCATED;
  }
  if (ip->version != 4 || ip->ihl < 5) {
    return MPX_PARSE_MALFORMED;
  }
  const __u32 ip_header_len = (__u32)ip->ihl * 4;
  const __u32 ip_len = bpf_ntohs(ip->tot_len);
  if (ip_len < ip_header_len) {
    return MPX_PARSE_MALFORMED;
  }
  /* Frames longer than ip_len are normal (Ethernet pads to 60 bytes); shorter ones are cut. */
  if (l3_offset + ip_len > pkt_len) {
    return MPX_PARSE_TRUNCATED;
  }
  if (ip->protocol != IPPROTO_UDP) {
    return MPX_PARSE_NOT_UDP;
  }
  if (ip->frag_off & bpf_htons(MPX_IP_MF | MPX_IP_OFFSET)) {
    return MPX_PARSE_FRAGMENT;
  }
  if (ip_header_len != sizeof(struct iphdr)) {
    return MPX_PARSE_IP_OPTIONS;
  }

  if (ip_len < sizeof(struct iphdr) + sizeof(struct udphdr)) {
    return MPX_PARSE_TRUNCATED;
  }
  struct udphdr *udp = (void *)(ip + 1);
  if ((void *)(udp + 1) > data_end) {
    /* Only reachable when the linear part is shorter than the frame (pkt_len checked above). */
    return MPX_PARSE_TRUNCATED;
  }
  const __u32 udp_len = bpf_ntohs(udp->len);
  if (udp_len < sizeof(struct udphdr) || udp_len > ip_len - sizeof(struct iphdr)) {
    return MPX_PARSE_MALFORMED;
  }

  pkt->ip = ip;
  pkt->udp = udp;
  pkt->l3_offset = l3_offset;
  pkt->ip_len = (__u16)ip_len;
  return MPX_PARSE_UDP4;
}

/* Classifies the frame [data, data_end). pkt_len is the whole frame's length, which is larger than
 * data_end - data when a TC skb is non-linear: header reads are checked against data_end, the
 * IPv4 total length against pkt_len.
 *
 * Order of checks, and so which reason a frame with several oddities gets: the fixed headers must
 * be present and self-consistent (TRUNCATED / MALFORMED) before the frame is classified; then
 * protocol (NOT_UDP) before fragmentation (FRAGMENT) before options (IP_OPTIONS), so a TCP
 * fragment counts as NOT_UDP and a fragment with options as FRAGMENT. */
static __always_inline enum mpx_parse_result mpx_parse(void *data, void *data_end, __u32 pkt_len,
                                                       struct mpx_packet *pkt) {
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) {
    return MPX_PARSE_TRUNCATED;
  }
  if (eth->h_proto == bpf_htons(ETH_P_IP)) {
    return mpx_parse_ipv4_udp(data, data_end, pkt_len, sizeof(struct ethhdr), pkt);
  }
  if (eth->h_proto != bpf_htons(ETH_P_8021Q)) {
    return MPX_PARSE_NOT_IPV4;
  }
  struct mpx_vlan_hdr *vlan = (void *)(eth + 1);
  if ((void *)(vlan + 1) > data_end) {
    return MPX_PARSE_TRUNCATED;
  }
  if (vlan->encapsulated_proto != bpf_htons(ETH_P_IP)) {
    return MPX_PARSE_NOT_IPV4;
  }
  return mpx_parse_ipv4_udp(data, data_end, pkt_len,
                            sizeof(struct ethhdr) + sizeof(struct mpx_vlan_hdr), pkt);
}

#endif /* MPX_BPF_PARSE_H */
