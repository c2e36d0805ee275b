// End-to-end calls: sipp (caller and callee, real RTP from a pcap) through Kamailio 5.6 with its
// mediaproxy module -> mpx-dispatcher -> mpx-relay, for every relay datapath. Each test asserts
// what the UAs saw (SDP pointing at the relay, checked by the scenarios, which fail the call
// otherwise; RTP counted at the receivers as coming from the relay), what the dispatcher reports
// while the call is up (`mpxctl sessions`), and that nothing of the call is left afterwards.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/e2e/e2e_lab.hpp"
#include "tests/e2e/rtp_arrivals.hpp"
#include "tests/e2e/sipp_call.hpp"
#include "tests/support/privileged.hpp"
#include "tests/support/relay_datapaths.hpp"

namespace mpx::test::e2e {
namespace {

using namespace std::chrono_literals;

// A call counts as relayed when at least half of the pcap's packets arrived from the relay
// (strict latching may drop the first ones of the learning window).
constexpr std::uint64_t kEnoughPackets = kPcapPackets / 2;

struct LiveBytes {
  std::size_t sessions = 0;
  std::uint64_t caller = 0;
  std::uint64_t callee = 0;
};

LiveBytes live_bytes(const nlohmann::json& sessions) {
  LiveBytes total;
  total.sessions = sessions.size();
  for (const auto& session : sessions) {
    for (const auto& stream : session.value("streams", nlohmann::json::array())) {
      total.caller += stream.value("caller_bytes", std::uint64_t{0});
      total.callee += stream.value("callee_bytes", std::uint64_t{0});
    }
  }
  return total;
}

class E2eCallTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    for (const char* tool : {"kamailio", "sipp", "nft", "bpftool"}) {
      MPX_REQUIRE(missing_tool(tool));
    }
    MPX_REQUIRE(missing_path("/usr/share/sip-tester/g711a.pcap", "sipp's G.711 pcap"));
    env_ = std::make_unique<E2eLab>(GetParam());
    ASSERT_TRUE(env_->start()) << env_->logs();
    pcap_ = env_->work_dir() / "rtp.pcap";
    write_short_pcap(pcap_, kPcapPackets);
  }

  void TearDown() override {
    if (HasFailure() && env_) {
      std::cout << env_->logs();
    }
    env_.reset();
  }

  // Both sipp processes ended with status 0 (every call of their scenario succeeded).
  void expect_calls_succeeded(SippCall& call, std::chrono::milliseconds caller_timeout) {
    const int caller = call.wait_caller(caller_timeout);
    const int callee = call.wait_callee(10s);
    EXPECT_EQ(caller, 0) << "sipp caller (UAC) failed\n" << call.report();
    EXPECT_EQ(callee, 0) << "sipp callee (UAS) failed\n" << call.report();
  }

  // After the call: the dispatcher lists no session and the relay left nothing in the kernel.
  void expect_nothing_left() {
    std::string last_sessions;
    EXPECT_TRUE(eventually(
        [&] {
          auto sessions = env_->sessions();
          last_sessions = sessions ? sessions.value().dump() : sessions.error().message;
          return sessions && sessions.value().empty();
        },
        5s))
        << "the session is still listed: " << last_sessions;
    std::string left;
    EXPECT_TRUE(eventually(
        [&] {
          left = env_->kernel_leftovers();
          return left.empty();
        },
        5s))
        << "left in the relay's kernel after the call: " << left;
  }

  // A call with RTP both ways, ended by the caller's BYE; while it is up the dispatcher's
  // `sessions` must show the session with bytes relayed in both directions.
  void plain_call(const std::string& service) {
    RtpArrivals at_caller(env_->lab(), "caller", kCallerMediaPort);
    RtpArrivals at_callee(env_->lab(), "callee", kCalleeMediaPort);
    SippCallPlan plan;
    plan.service = service;
    plan.pause = 3000ms;
    SippCall call(env_->lab(), env_->work_dir() / "call", pcap_, plan);

    std::string last_sessions;
    const bool flowing = eventually(
        [&] {
          auto sessions = env_->sessions();
          if (!sessions) {
            last_sessions = sessions.error().message;
            return false;
          }
          last_sessions = sessions.value().dump();
          const LiveBytes live = live_bytes(sessions.value());
          return live.sessions == 1 && live.caller > 0 && live.callee > 0;
        },
        8s);
    // The probe sees the live call's kernel state, so its empty answer after the BYE counts.
    const std::string during_call = env_->kernel_leftovers();
    expect_calls_succeeded(call, 20s);
    EXPECT_FALSE(during_call.empty()) << "the kernel probe saw nothing of the live call";
    EXPECT_TRUE(flowing) << "`sessions` never showed the call with bytes both ways: "
                         << last_sessions;
    EXPECT_GE(at_callee.packets(), kEnoughPackets) << "RTP from the relay at the callee";
    EXPECT_GE(at_caller.packets(), kEnoughPackets) << "RTP from the relay at the caller";
    expect_nothing_left();
  }

  std::unique_ptr<E2eLab> env_;
  std::filesystem::path pcap_;
};

// engage_media_proxy(): the module follows the dialog (dialog module callbacks) by itself.
TEST_P(E2eCallTest, EngageMediaProxyCallRelaysRtpBothWaysAndByeCleansUp) {
  plain_call("engage-call");
}

// use_media_proxy() on the INVITE and its 200, end_media_session() on the BYE (kamailio.cfg).
TEST_P(E2eCallTest, UseMediaProxyCallRelaysRtpBothWaysAndByeCleansUp) { plain_call("use-call"); }

// The RTP stops and nobody hangs up: the relay expires the stream after stream_timeout, the
// dispatcher ends the dialog through Kamailio's jsonrpcs (dlg.end_dlg) and Kamailio sends a BYE
// to both UAs (the caller's scenario never sends one: it fails unless it receives a BYE; the
// callee's BYE can only come from Kamailio).
TEST_P(E2eCallTest, CallWhoseMediaStopsIsHungUpOnBothSides) {
  SippCallPlan plan;
  plan.uac_scenario = "uac_media_stops.xml";
  plan.service = "engage-stops";
  SippCall call(env_->lab(), env_->work_dir() / "call", pcap_, plan);
  expect_calls_succeeded(call, 30s);
  EXPECT_NE(env_->logs().find("Kamailio RPC: ended dialog"), std::string::npos)
      << "the dispatcher did not report ending the dialog";
  expect_nothing_left();
}

// Hold (re-INVITE a=sendonly) then resume (a=sendrecv): both sides play the pcap once before the
// hold and once after the resume, so more than one pcap's worth arriving from the relay at
// each side proves the media flows again after the resume.
TEST_P(E2eCallTest, HoldThenResumeKeepsTheMediaFlowing) {
  RtpArrivals at_caller(env_->lab(), "caller", kCallerMediaPort);
  RtpArrivals at_callee(env_->lab(), "callee", kCalleeMediaPort);
  SippCallPlan plan;
  plan.uac_scenario = "uac_hold.xml";
  plan.uas_scenario = "uas_hold.xml";
  plan.service = "use-hold";
  plan.pause = 2500ms;
  SippCall call(env_->lab(), env_->work_dir() / "call", pcap_, plan);
  expect_calls_succeeded(call, 30s);
  EXPECT_GE(at_callee.packets(), kPcapPackets + kEnoughPackets)
      << "RTP from the relay at the callee (before hold + after resume)";
  EXPECT_GE(at_caller.packets(), kPcapPackets + kEnoughPackets)
      << "RTP from the relay at the caller (before hold + after resume)";
  expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Datapaths, E2eCallTest, all_relay_datapaths(), relay_datapath_name);

}  // namespace
}  // namespace mpx::test::e2e
