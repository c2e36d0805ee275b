/* stats.h: the per-CPU verdict counters (map MPX_MAP_STATS, indexed by enum mpx_stat) and the one
 * helper that moves them. Per-CPU so the hot path never contends on a cache line; userspace sums.
 */
#ifndef MPX_BPF_STATS_H
#define MPX_BPF_STATS_H

#include <linux/bpf.h>
#include <linux/types.h>

#include <bpf/bpf_helpers.h>

#include "bpf/mpx_shared.h"
#include "bpf/parse.h"

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, MPX_STAT_MAX);
  __type(key, __u32);
  __type(value, __u64);
} mpx_stats SEC(".maps");

static __always_inline void mpx_stat_inc(enum mpx_stat stat) {
  __u32 index = stat;
  __u64 *counter = bpf_map_lookup_elem(&mpx_stats, &index);
  if (counter) {
    *counter += 1; /* per-CPU slot: no other CPU writes it, no atomic needed */
  }
}

/* The counter for a frame the parser did not hand on as UDP/IPv4. */
static __always_inline enum mpx_stat mpx_stat_of_parse(enum mpx_parse_result result) {
  switch (result) {
    case MPX_PARSE_NOT_IPV4:
      return MPX_STAT_PASS_NOT_IPV4;
    case MPX_PARSE_NOT_UDP:
      return MPX_STAT_PASS_NOT_UDP;
    case MPX_PARSE_FRAGMENT:
      return MPX_STAT_PASS_FRAGMENT;
    case MPX_PARSE_IP_OPTIONS:
      return MPX_STAT_PASS_IP_OPTIONS;
    case MPX_PARSE_TRUNCATED:
      return MPX_STAT_PASS_TRUNCATED;
    case MPX_PARSE_MALFORMED:
    case MPX_PARSE_UDP4: /* not a pass reason by itself: the caller looks up the flow */
    default:
      return MPX_STAT_PASS_MALFORMED;
  }
}

#endif /* MPX_BPF_STATS_H */
