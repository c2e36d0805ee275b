// RelayLab: one network lab with the real dispatcher in the proxy namespace (DispatcherHarness,
// relay listener on 10.3.0.30:25060) and, once started, the mpx-relay daemon in the relay
// namespace. CallEnds: the caller's and callee's RTP/RTCP sockets; establish() and exchange()
// drive a call's signalling and media. RelayLabTest: the gtest fixture (value parameter = the
// relay's datapath) that prints the relay's log when a test failed.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/protocol/session_statistics.hpp"
#include "tests/integration/dispatcher/dispatcher_harness.hpp"
#include "tests/integration/relay_lab/lab_call.hpp"
#include "tests/integration/relay_lab/relay_process.hpp"
#include "tests/integration/relay_lab/rtp_peer.hpp"
#include "tests/support/netns_lab.hpp"

namespace mpx::test::relay_lab {

inline constexpr std::uint16_t kDispatcherPort = 25060;
inline constexpr std::uint16_t kCallerPort = 5000;
inline constexpr std::uint16_t kCalleePort = 6000;
inline constexpr std::uint32_t kCallerSsrc = 0xca11e500;
inline constexpr std::uint32_t kCalleeSsrc = 0xca11ee00;
inline constexpr std::uint8_t kCallerFill = 0xc1;
inline constexpr std::uint8_t kCalleeFill = 0xce;

class RelayLab {
 public:
  explicit RelayLab(const std::string& name, NetnsLab::Variant variant = NetnsLab::Variant::kBasic);
  ~RelayLab();
  RelayLab(const RelayLab&) = delete;
  RelayLab& operator=(const RelayLab&) = delete;

  NetnsLab& lab() { return *lab_; }
  dispatcher::testing::DispatcherHarness& dispatcher() { return *dispatcher_; }
  // Starts mpx-relay and waits (10 s) until the dispatcher lists it.
  ::testing::AssertionResult start_relay(const RelaySettings& settings);
  bool has_relay() const { return relay_ != nullptr; }
  RelayProcess& relay() { return *relay_; }
  std::unique_ptr<LabCall> new_call(const std::string& call_id);
  // The first accounted record of call_id, polled until `timeout`.
  std::optional<protocol::SessionStatistics> wait_accounted(const std::string& call_id,
                                                            std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<NetnsLab> lab_;
  std::unique_ptr<dispatcher::testing::DispatcherHarness> dispatcher_;
  std::unique_ptr<RelayProcess> relay_;
};

struct RelayPorts {
  std::uint16_t caller_side = 0;  // where the caller sends (answer reply)
  std::uint16_t callee_side = 0;  // where the callee sends (offer reply)
};

// Where one end of a call lives: its namespace, address and RTP port (RTCP is port + 1).
struct EndAddress {
  std::string role;
  std::string ip;
  std::uint16_t port = 0;
};

struct CallEnds {
  CallEnds(const NetnsLab& lab, std::uint16_t caller_port = kCallerPort,
           std::uint16_t callee_port = kCalleePort);
  // Ends elsewhere than the lab's caller and callee (e.g. the attack lab's natted endpoint).
  CallEnds(const NetnsLab& lab, const EndAddress& caller, const EndAddress& callee);
  RtpPeer caller_rtp;
  RtpPeer caller_rtcp;
  RtpPeer callee_rtp;
  RtpPeer callee_rtcp;
};

// INVITE (cseq 1) with the caller's RTP port, 200 OK with the callee's; fills `ports`.
::testing::AssertionResult establish(LabCall& call, const CallEnds& ends, RelayPorts& ports);

struct Exchange {
  int rtp = 100;  // RTP packets per side
  int rtcp = 20;  // RTCP packets per side, spread over the RTP ones
  std::chrono::microseconds interval{3000};  // per round (one packet of each side)
};
// Both sides send alternately: caller to 203.0.113.1:caller_side (+1 for RTCP), callee to
// callee_side; `caller` overrides the caller's sockets (after a re-INVITE to a new port).
void exchange(CallEnds& ends, const RelayPorts& ports, const Exchange& plan,
              RtpPeer* caller_rtp = nullptr, RtpPeer* caller_rtcp = nullptr);

// "203.0.113.1:<port>".
std::string relay_side(std::uint16_t port);

class RelayLabTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Makes the lab and the dispatcher, starts the relay with settings.datapath = GetParam()
  // when `use_param` (else as given); fails the test if the relay does not register.
  void start(NetnsLab::Variant variant, RelaySettings settings, bool use_param = true);

  std::unique_ptr<RelayLab> env_;
};

// "conntrack" / "userspace" as a test-name suffix.
std::string datapath_name(const ::testing::TestParamInfo<std::string>& info);
// Every datapath the relay suites run with.
inline auto all_datapaths() {
  return ::testing::Values("conntrack", "userspace", "xdp", "xdp_native", "tc");
}

}  // namespace mpx::test::relay_lab
