// What the relay left in the kernel of the relay namespace: conntrack entries carrying the
// relay's mark (read over ctnetlink from inside the namespace), UDP sockets bound in the media
// port range (`ss -uanH`), and whether an nftables table exists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "tests/support/netns_lab.hpp"
#include "userspace/conntrack/conntrack_table.hpp"

namespace mpx::test::relay_lab {

inline constexpr std::uint32_t kRelayMark = 0x6d707831;  // "mpx1"

using datapath::conntrack::EntrySnapshot;

Result<std::vector<EntrySnapshot>> marked_entries(const NetnsLab& lab,
                                                  std::uint32_t mark = kRelayMark);
// True when the entry's status carries both IPS_SRC_NAT and IPS_DST_NAT.
bool is_nat(const EntrySnapshot& entry);
// "orig a -> b, reply c -> d, status 0x.., packets x/y" for failure messages.
std::string describe(const std::vector<EntrySnapshot>& entries);

// Local ports of the UDP sockets bound in the relay namespace within [first, last], sorted;
// an error if `ss` fails.
Result<std::vector<std::uint16_t>> bound_udp_ports(const NetnsLab& lab, std::uint16_t first,
                                                   std::uint16_t last);
// Parses `ss -uanH` output (exposed for the harness test).
std::vector<std::uint16_t> parse_ss_ports(const std::string& ss_output, std::uint16_t first,
                                          std::uint16_t last);

bool nft_table_exists(const NetnsLab& lab, const std::string& family, const std::string& name);

}  // namespace mpx::test::relay_lab
