// RtpArrivals (see rtp_arrivals.hpp): made and read with the nft CLI (JSON output).
#include "tests/e2e/rtp_arrivals.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <utility>

namespace mpx::test::e2e {
namespace {
const std::string kTable = "mpx_e2e_arrivals";
}

RtpArrivals::RtpArrivals(const NetnsLab& lab, std::string role, std::uint16_t media_port)
    : lab_(lab), role_(std::move(role)) {
  const std::string script =
      "add table inet " + kTable + "\nadd chain inet " + kTable +
      " in { type filter hook input priority 0; policy accept; }\nadd rule inet " + kTable +
      " in ip saddr " + LabAddresses::kRelayPublic + " udp dport " + std::to_string(media_port) +
      " counter\n";
  const RunResult made = lab_.exec(role_, {"nft", script});
  if (made.exit_code != 0) {
    throw std::runtime_error("nft: cannot make the arrivals table in " + role_ + ": " + made.err);
  }
}

RtpArrivals::~RtpArrivals() { lab_.exec(role_, {"nft", "delete", "table", "inet", kTable}); }

std::uint64_t RtpArrivals::packets() const {
  const RunResult listed = lab_.exec(role_, {"nft", "-j", "list", "table", "inet", kTable});
  const auto document = nlohmann::json::parse(listed.out, nullptr, false);
  if (listed.exit_code != 0 || document.is_discarded() || !document.contains("nftables")) {
    throw std::runtime_error("nft list table inet " + kTable + " in " + role_ + ": " + listed.err);
  }
  for (const auto& item : document["nftables"]) {
    if (!item.contains("rule")) {
      continue;
    }
    for (const auto& expression : item["rule"]["expr"]) {
      if (expression.contains("counter")) {
        return expression["counter"]["packets"].get<std::uint64_t>();
      }
    }
  }
  throw std::runtime_error("no counter rule in " + listed.out);
}

}  // namespace mpx::test::e2e
