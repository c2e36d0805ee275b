// LabCall (see lab_call.hpp).
#include "tests/integration/relay_lab/lab_call.hpp"

#include <charconv>

#include "tests/support/netns_lab.hpp"

namespace mpx::test::relay_lab {

LabCall::LabCall(const std::filesystem::path& module_socket, std::string call_id)
    : call_id_(std::move(call_id)), module_(module_socket) {}

std::string LabCall::update_text(bool request, int cseq, const MediaLeg& leg) const {
  // Header order and the empty values the module sends (the dispatcher drops those lines).
  return dispatcher::testing::module_request(
      "update", {{"type", request ? "request" : "reply"},
                 {"dialog_id", kDialogId},
                 {"call_id", call_id_},
                 {"cseq", std::to_string(cseq)},
                 {"from_uri", "alice@example.com"},
                 {"to_uri", "bob@example.net"},
                 {"from_tag", kFromTag},
                 {"to_tag", request && cseq == 1 ? "" : kToTag},
                 {"user_agent", request ? "Blink 5.1" : "Asterisk PBX"},
                 {"signaling_ip", !leg.signaling_ip.empty() ? leg.signaling_ip
                                  : request                  ? LabAddresses::kCaller
                                                             : LabAddresses::kCallee},
                 {"media_relay", ""},
                 {"media", "audio:" + leg.ip + ":" + std::to_string(leg.port) + ":" +
                               leg.direction + ":ice=no"}});
}

std::optional<std::uint16_t> LabCall::ask_for_port(const std::string& request) {
  const auto reply = module_.ask(request, std::chrono::seconds(3));
  last_reply_ = reply.value_or("<no reply>");
  return reply ? relay_port_of(*reply) : std::nullopt;
}

std::optional<std::uint16_t> LabCall::offer(int cseq, const MediaLeg& caller) {
  return ask_for_port(update_text(true, cseq, caller));
}

std::optional<std::uint16_t> LabCall::answer(int cseq, const MediaLeg& callee) {
  return ask_for_port(update_text(false, cseq, callee));
}

bool LabCall::remove() {
  const auto reply = module_.ask(dispatcher::testing::module_request(
      "remove", {{"call_id", call_id_}, {"from_tag", kFromTag}, {"to_tag", kToTag}}));
  last_reply_ = reply.value_or("<no reply>");
  return reply == "removed";
}

std::optional<std::uint16_t> relay_port_of(const std::string& reply) {
  const std::string prefix = std::string(LabAddresses::kRelayPublic) + " ";
  if (reply.rfind(prefix, 0) != 0) {
    return std::nullopt;
  }
  const std::string digits = reply.substr(prefix.size());
  unsigned value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size() || value == 0 ||
      value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace mpx::test::relay_lab
