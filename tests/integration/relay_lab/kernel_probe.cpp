// Kernel probes of the relay namespace (see kernel_probe.hpp).
#include "tests/integration/relay_lab/kernel_probe.hpp"

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <algorithm>
#include <sstream>

namespace mpx::test::relay_lab {

Result<std::vector<EntrySnapshot>> marked_entries(const NetnsLab& lab, std::uint32_t mark) {
  Result<std::vector<EntrySnapshot>> result = Error{"not read"};
  lab.in_ns("relay", [&] {
    auto table = datapath::conntrack::ConntrackTable::open();
    if (!table) {
      result = Error{"ctnetlink in the relay namespace: " + table.error().message};
      return;
    }
    result = table.value().dump_marked(mark);
  });
  return result;
}

bool is_nat(const EntrySnapshot& entry) {
  constexpr std::uint32_t both = IPS_SRC_NAT | IPS_DST_NAT;
  return (entry.status & both) == both;
}

std::string describe(const std::vector<EntrySnapshot>& entries) {
  std::ostringstream text;
  text << entries.size() << " marked entries";
  for (const auto& e : entries) {
    text << "\n  orig " << e.orig_src << " -> " << e.orig_dst << ", reply " << e.reply_src
         << " -> " << e.reply_dst << ", status 0x" << std::hex << e.status << std::dec
         << ", packets " << e.orig_packets << "/" << e.reply_packets;
  }
  return text.str();
}

std::vector<std::uint16_t> parse_ss_ports(const std::string& ss_output, std::uint16_t first,
                                          std::uint16_t last) {
  std::vector<std::uint16_t> ports;
  std::istringstream lines(ss_output);
  for (std::string line; std::getline(lines, line);) {
    // State Recv-Q Send-Q Local:Port Peer:Port [Process]
    std::istringstream fields(line);
    std::string state, recv_q, send_q, local;
    if (!(fields >> state >> recv_q >> send_q >> local)) {
      continue;
    }
    const auto colon = local.rfind(':');
    if (colon == std::string::npos) {
      continue;
    }
    const std::string digits = local.substr(colon + 1);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
        digits.size() > 5) {
      continue;
    }
    const unsigned long port = std::stoul(digits);
    if (port >= first && port <= last) {
      ports.push_back(static_cast<std::uint16_t>(port));
    }
  }
  std::sort(ports.begin(), ports.end());
  return ports;
}

Result<std::vector<std::uint16_t>> bound_udp_ports(const NetnsLab& lab, std::uint16_t first,
                                                   std::uint16_t last) {
  const RunResult listed = lab.exec("relay", {"ss", "-uanH"});
  if (listed.exit_code != 0) {
    return Error{"ss -uanH in the relay namespace: " + listed.err};
  }
  return parse_ss_ports(listed.out, first, last);
}

bool nft_table_exists(const NetnsLab& lab, const std::string& family, const std::string& name) {
  return lab.exec("relay", {"nft", "list", "table", family, name}).exit_code == 0;
}

}  // namespace mpx::test::relay_lab
