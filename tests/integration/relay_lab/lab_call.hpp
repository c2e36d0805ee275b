// LabCall: one call's signalling as OpenSIPS's engage_media_proxy() sends it to the dispatcher
// (protocol A, one ModuleClient): offers from the caller (INVITE, re-INVITE; type request) and
// answers from the callee (200 OK; type reply, with to_tag). Each returns the relay port from
// the `203.0.113.1 <port>` reply: for an offer the port the CALLEE must send to, for an answer
// the port the CALLER must send to. RTCP is that port + 1.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "tests/integration/dispatcher/dispatcher_harness.hpp"

namespace mpx::test::relay_lab {

struct MediaLeg {
  std::string ip;
  std::uint16_t port = 0;
  std::string direction = "sendrecv";
  // The address the party's SIP signaling came from; empty: the lab's caller (offers) or
  // callee (answers). A party behind a NAT signals from the NAT's public address while its SDP
  // names its private one.
  std::string signaling_ip{};
};

class LabCall {
 public:
  inline static const std::string kFromTag = "a73kszlfl";
  inline static const std::string kToTag = "8d7f2a";
  inline static const std::string kDialogId = "5063766441986";

  LabCall(const std::filesystem::path& module_socket, std::string call_id);

  const std::string& call_id() const { return call_id_; }
  bool connected() const { return module_.connected(); }
  // The raw reply line of the last request ("<no reply>" when none came).
  const std::string& last_reply() const { return last_reply_; }

  // INVITE / re-INVITE from the caller with this cseq: the callee-side relay port.
  std::optional<std::uint16_t> offer(int cseq, const MediaLeg& caller);
  // 200 OK from the callee for that cseq: the caller-side relay port.
  std::optional<std::uint16_t> answer(int cseq, const MediaLeg& callee);
  // BYE: true when the dispatcher answered `removed`.
  bool remove();
  // The request text of an update (exposed for the harness test).
  std::string update_text(bool request, int cseq, const MediaLeg& leg) const;

 private:
  std::optional<std::uint16_t> ask_for_port(const std::string& request);

  std::string call_id_;
  dispatcher::testing::ModuleClient module_;
  std::string last_reply_;
};

// The relay port of an update reply "203.0.113.1 <port>"; nullopt for anything else.
std::optional<std::uint16_t> relay_port_of(const std::string& reply);

}  // namespace mpx::test::relay_lab
