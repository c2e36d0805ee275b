// verdict_name: one name per enum mpx_stat value (see verdict_names.hpp).
#include "userspace/bpf/verdict_names.hpp"

#include "bpf/mpx_shared.h"

namespace mpx::datapath {

std::string verdict_name(std::uint32_t stat) {
  switch (static_cast<mpx_stat>(stat)) {
    case MPX_STAT_PASS_NO_FLOW:
      return "pass_no_flow";
    case MPX_STAT_PASS_NOT_IPV4:
      return "pass_not_ipv4";
    case MPX_STAT_PASS_NOT_UDP:
      return "pass_not_udp";
    case MPX_STAT_PASS_FRAGMENT:
      return "pass_fragment";
    case MPX_STAT_PASS_IP_OPTIONS:
      return "pass_ip_options";
    case MPX_STAT_PASS_TRUNCATED:
      return "pass_truncated";
    case MPX_STAT_PASS_MALFORMED:
      return "pass_malformed";
    case MPX_STAT_FORWARDED_TX:
      return "forwarded_tx";
    case MPX_STAT_FORWARDED_REDIRECT:
      return "forwarded_redirect";
    case MPX_STAT_FORWARDED_REDIRECT_NEIGH:
      return "forwarded_redirect_neigh";
    case MPX_STAT_PASS_VLAN:
      return "pass_vlan";
    case MPX_STAT_PASS_NO_NEIGH:
      return "pass_no_neigh";
    case MPX_STAT_PASS_FIB_NO_ROUTE:
      return "pass_fib_no_route";
    case MPX_STAT_PASS_FIB_FWD_DISABLED:
      return "pass_fib_fwd_disabled";
    case MPX_STAT_PASS_FIB_FRAG_NEEDED:
      return "pass_fib_frag_needed";
    case MPX_STAT_PASS_FIB_FAILED:
      return "pass_fib_failed";
    case MPX_STAT_PASS_EGRESS_MISMATCH:
      return "pass_egress_mismatch";
    case MPX_STAT_DROP_TTL_EXCEEDED:
      return "drop_ttl_exceeded";
    case MPX_STAT_MAX:
      break;
  }
  return "stat_" + std::to_string(stat);
}

}  // namespace mpx::datapath
