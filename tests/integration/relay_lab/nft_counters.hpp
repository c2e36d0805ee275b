// InputCounters: a test-owned nftables table in the relay namespace counting, per source
// address, the UDP packets to the relay's media ports that are DELIVERED locally (filter/input).
// Packets the kernel forwards by conntrack NAT go through FORWARD instead, so a counter that
// stops growing while the other side keeps receiving shows the kernel fast path took over.
// The table is deleted on destruction (also when the test failed).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/netns_lab.hpp"

namespace mpx::test::relay_lab {

class InputCounters {
 public:
  inline static const std::string kTable = "mpx_lab_input";  // per namespace, so per lab

  // sources: (label, IPv4 address); one counter rule per source for dport first..last.
  // Throws std::runtime_error with nft's message if the table cannot be made.
  InputCounters(const NetnsLab& lab, const std::vector<std::pair<std::string, std::string>>& sources,
                std::uint16_t first_port, std::uint16_t last_port);
  ~InputCounters();
  InputCounters(const InputCounters&) = delete;
  InputCounters& operator=(const InputCounters&) = delete;

  // Packets counted so far for the label; throws std::runtime_error if nft cannot be read.
  std::uint64_t packets(const std::string& label) const;

 private:
  const NetnsLab& lab_;
};

}  // namespace mpx::test::relay_lab
