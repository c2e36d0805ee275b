// InputCounters (see nft_counters.hpp): made and read with the nft CLI (JSON output).
#include "tests/integration/relay_lab/nft_counters.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace mpx::test::relay_lab {

InputCounters::InputCounters(const NetnsLab& lab,
                             const std::vector<std::pair<std::string, std::string>>& sources,
                             std::uint16_t first_port, std::uint16_t last_port)
    : lab_(lab) {
  std::string script = "add table inet " + kTable + "\nadd chain inet " + kTable +
                       " in { type filter hook input priority 0; policy accept; }\n";
  for (const auto& [label, ip] : sources) {
    script += "add rule inet " + kTable + " in ip saddr " + ip + " udp dport " +
              std::to_string(first_port) + "-" + std::to_string(last_port) + " counter comment \"" +
              label + "\"\n";
  }
  lab_.exec("relay", {"nft", "delete", "table", "inet", kTable});  // a leftover of a crash
  const RunResult made = lab_.exec("relay", {"nft", script});
  if (made.exit_code != 0) {
    throw std::runtime_error("nft: cannot make the counters table: " + made.err);
  }
}

InputCounters::~InputCounters() { lab_.exec("relay", {"nft", "delete", "table", "inet", kTable}); }

std::uint64_t InputCounters::packets(const std::string& label) const {
  const RunResult listed = lab_.exec("relay", {"nft", "-j", "list", "table", "inet", kTable});
  if (listed.exit_code != 0) {
    throw std::runtime_error("nft list table inet " + kTable + ": " + listed.err);
  }
  const auto document = nlohmann::json::parse(listed.out, nullptr, false);
  if (document.is_discarded() || !document.contains("nftables")) {
    throw std::runtime_error("nft -j printed no nftables document: " + listed.out);
  }
  for (const auto& item : document["nftables"]) {
    if (!item.contains("rule") || item["rule"].value("comment", "") != label) {
      continue;
    }
    for (const auto& expression : item["rule"]["expr"]) {
      if (expression.contains("counter")) {
        return expression["counter"]["packets"].get<std::uint64_t>();
      }
    }
  }
  throw std::runtime_error("no counter rule labelled " + label + " in " + listed.out);
}

}  // namespace mpx::test::relay_lab
