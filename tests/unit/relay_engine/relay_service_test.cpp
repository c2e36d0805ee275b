// RelayService over loopback: protocol B updates and removes as OpenSIPS' module sends them
// (testdata/opensips-3.4), media through the ports it hands out, statistics, error answers,
// port exhaustion, drain, expire_all, engine expiry reported as `expired`, and the summary.
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "common/protocol/relay_request.hpp"
#include "common/protocol/session_statistics.hpp"
#include "relay/service/relay_service.hpp"
#include "tests/unit/relay_engine/engine_fixture.hpp"
#include "userspace/socket/media_sockets.hpp"
#include "userspace/socket/userspace_datapath.hpp"

namespace mpx::relay::test {
namespace {

using namespace std::chrono_literals;
using service::RelayService;

constexpr std::uint64_t kRtpBytes = 12 + 160 + 28;

// One `update` as OpenSIPS 3.4's mediaproxy module sends it, after the dispatcher dropped the
// empty-valued lines (dialog_id, to_tag on the INVITE, media_relay).
struct Update {
  std::string type = "request";
  std::string call_id = "1-15491@127.0.0.1";
  std::string cseq = "1";
  std::string from_tag = "15491SIPpTag091";
  std::string to_tag;
  std::string user_agent = "sipp-harness-uac";
  std::string signaling_ip = "127.0.0.2";
  std::string media;  // empty: no SDP
};

protocol::RelayRequest make_update(const Update& u) {
  protocol::RelayRequest r;
  r.command = "update";
  auto add = [&](std::string name, std::string value) {
    if (!value.empty()) r.headers.push_back({std::move(name), std::move(value)});
  };
  add("type", u.type);
  add("call_id", u.call_id);
  add("cseq", u.cseq);
  add("from_uri", "sipp@127.0.0.1:5061");
  add("to_uri", "manual@127.0.0.1:5060");
  add("from_tag", u.from_tag);
  add("to_tag", u.to_tag);
  add("user_agent", u.user_agent);
  add("signaling_ip", u.signaling_ip);
  add("media", u.media);
  return r;
}

protocol::RelayRequest make_remove(const std::string& call_id, const std::string& from_tag,
                                   const std::string& to_tag) {
  protocol::RelayRequest r;
  r.command = "remove";
  r.headers.push_back({"call_id", call_id});
  r.headers.push_back({"from_tag", from_tag});
  if (!to_tag.empty()) r.headers.push_back({"to_tag", to_tag});
  return r;
}

std::string audio(const Peer& peer) {
  return "audio:" + peer.rtp_endpoint().address().to_string() + ":" +
         std::to_string(peer.rtp_endpoint().port()) + ":sendrecv:ice=no";
}

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest()
      : sockets_(io_.get_executor(),
                 [this](const datapath::MediaSockets::Packet& packet) {
                   if (service_) service_->engine().on_packet(packet);
                 }),
        datapath_(sockets_) {}

  ~ServiceTest() override {
    if (service_) service_->stop();
    service_.reset();
  }

  void make_service(std::uint32_t pairs = 16) {
    service::RelayServiceSettings settings;
    settings.relay_ip = boost::asio::ip::make_address_v4("127.0.0.1");
    settings.port_range = free_range(pairs);
    settings.traffic_sampling_period = 1s;
    auto& engine = settings.engine;
    engine.bind_ip = settings.relay_ip;
    engine.latch.window = 200ms;
    engine.stream_timeout = 1s;
    engine.on_hold_timeout = 2s;
    engine.poll_interval = 100ms;
    engine.latch_tick = 50ms;
    engine.install_retry = 1s;
    engine.routable_private_ranges = {boost::asio::ip::make_network_v4("127.0.0.0/8")};
    range_ = settings.port_range;
    service_ = std::make_unique<RelayService>(io_.get_executor(), settings, sockets_, datapath_,
                                              nullptr);
    service_->on_expired([this](const session::ExpiredSession& e) { expired_.push_back(e); });
    service_->start();
  }

  std::string handle(const protocol::RelayRequest& request) {
    auto reply = boost::asio::co_spawn(io_, service_->handle(request, from_),
                                       boost::asio::use_future);
    EXPECT_TRUE(pump_until(io_, [&] { return reply.wait_for(0s) == std::future_status::ready; }));
    return reply.get();
  }

  std::string invite(const std::string& call_id = "call-1") {
    Update u;
    u.call_id = call_id;
    u.media = audio(caller_);
    return handle(make_update(u));
  }
  std::string ok_200(const std::string& call_id = "call-1") {
    Update u;
    u.type = "reply";
    u.call_id = call_id;
    u.to_tag = "15488SIPpTag011";
    u.user_agent = "sipp-harness-uas";
    u.signaling_ip = "127.0.0.3";
    u.media = audio(callee_);
    return handle(make_update(u));
  }
  std::string remove(const std::string& call_id = "call-1") {
    return handle(make_remove(call_id, "15491SIPpTag091", "15488SIPpTag011"));
  }

  // "127.0.0.1 <port>" -> port, checking the IP and that the port is from the range.
  std::uint16_t port_of(const std::string& reply) {
    const std::string prefix = "127.0.0.1 ";
    EXPECT_EQ(reply.rfind(prefix, 0), 0u) << reply;
    if (reply.rfind(prefix, 0) != 0) return 0;
    const auto port = static_cast<std::uint32_t>(std::stoul(reply.substr(prefix.size())));
    EXPECT_GE(port, range_.start) << reply;
    EXPECT_LT(port, range_.end) << reply;
    EXPECT_EQ(reply, prefix + std::to_string(port)) << "one stream, one port";
    return static_cast<std::uint16_t>(port);
  }

  boost::asio::io_context io_;
  datapath::MediaSockets sockets_;
  datapath::UserspaceDatapath datapath_;
  std::unique_ptr<RelayService> service_;
  config::PortRange range_;
  link::DispatcherId from_{boost::asio::ip::make_address_v4("127.0.0.9"), 25060};
  std::vector<session::ExpiredSession> expired_;
  Peer caller_{"127.0.0.2"};
  Peer callee_{"127.0.0.3"};
};

TEST_F(ServiceTest, CallGetsPortsFromTheRangeRelaysMediaAndRemoveReturnsStatistics) {
  make_service();
  const auto callee_side = port_of(invite());
  const auto caller_side = port_of(ok_200());
  ASSERT_NE(callee_side, caller_side);
  EXPECT_EQ(sockets_.open_count(), 4u);

  // The 200 OK's port is the one the caller sends to; the INVITE's the one the callee sends to.
  const auto caller_target = endpoint("127.0.0.1", caller_side);
  const auto callee_target = endpoint("127.0.0.1", callee_side);
  for (std::uint16_t seq = 1; seq <= 5; ++seq) {
    caller_.rtp().send(caller_target, rtp_packet(0x1111, seq));
    ASSERT_TRUE(pump_until(io_, [&] { return callee_.rtp().received().size() == seq; },
                           {&callee_}));
    EXPECT_EQ(callee_.rtp().received().back().source, callee_target);
    callee_.rtp().send(callee_target, rtp_packet(0x2222, seq));
    ASSERT_TRUE(pump_until(io_, [&] { return caller_.rtp().received().size() == seq; },
                           {&caller_}));
    EXPECT_EQ(caller_.rtp().received().back().source, caller_target);
  }
  EXPECT_EQ(service_->engine().installed_flows(), 1u);

  const auto reply = remove();
  auto statistics = protocol::session_statistics_from_json(reply);
  ASSERT_TRUE(statistics.has_value()) << reply;
  const auto& s = statistics.value();
  EXPECT_EQ(s.call_id, "call-1");
  EXPECT_EQ(s.from_tag, "15491SIPpTag091");
  EXPECT_EQ(s.caller_ua, "sipp-harness-uac");
  EXPECT_EQ(s.callee_ua, "sipp-harness-uas");
  ASSERT_EQ(s.streams.size(), 1u);
  const auto& stream = s.streams[0];
  EXPECT_EQ(stream.media_type, "audio");
  EXPECT_EQ(stream.caller_packets, 5u);
  EXPECT_EQ(stream.callee_packets, 5u);
  EXPECT_EQ(stream.caller_bytes, 5 * kRtpBytes);
  EXPECT_EQ(stream.callee_bytes, 5 * kRtpBytes);
  EXPECT_EQ(stream.caller_codec, "G711a");  // MediaProxy's name of payload type 8
  EXPECT_EQ(stream.callee_codec, "G711a");
  EXPECT_EQ(stream.caller_local, "127.0.0.1:" + std::to_string(caller_side));
  EXPECT_EQ(stream.callee_local, "127.0.0.1:" + std::to_string(callee_side));
  EXPECT_EQ(stream.caller_remote, caller_.rtp_endpoint().address().to_string() + ":" +
                                      std::to_string(caller_.rtp_endpoint().port()));
  EXPECT_EQ(stream.callee_remote, callee_.rtp_endpoint().address().to_string() + ":" +
                                      std::to_string(callee_.rtp_endpoint().port()));

  // Everything is gone: sessions, flows, sockets.
  EXPECT_EQ(service_->session_count(), 0u);
  EXPECT_EQ(service_->engine().stream_count(), 0u);
  EXPECT_TRUE(datapath_.flows().empty());
  EXPECT_EQ(sockets_.open_count(), 0u);
  EXPECT_TRUE(expired_.empty()) << "a removed session was reported as expired";
}

TEST_F(ServiceTest, RemoveOfAnUnknownSessionIsError) {
  make_service();
  EXPECT_EQ(remove("no-such-call"), "error");
  ASSERT_NE(port_of(invite()), 0);
  EXPECT_NE(remove(), "error");
  EXPECT_EQ(remove(), "error") << "a second remove of the same session must fail";
}

TEST_F(ServiceTest, ReplyWithoutSdpForAnUnknownSessionIsErrorNotNone) {
  make_service();
  Update u;
  u.type = "reply";
  u.call_id = "unknown-call";
  u.to_tag = "15488SIPpTag011";
  u.signaling_ip = "127.0.0.3";
  EXPECT_EQ(handle(make_update(u)), "error");
  EXPECT_EQ(service_->session_count(), 0u);
}

TEST_F(ServiceTest, UnknownCommandAndBadUpdateAreError) {
  make_service();
  protocol::RelayRequest bogus;
  bogus.command = "frobnicate";
  EXPECT_EQ(handle(bogus), "error");
  Update u;
  u.media = "audio:127.0.0.2:notaport:sendrecv:ice=no";
  EXPECT_EQ(handle(make_update(u)), "error");
  EXPECT_EQ(service_->session_count(), 0u);
  EXPECT_EQ(sockets_.open_count(), 0u);
}

TEST_F(ServiceTest, PortExhaustionIsErrorAndFreedPortsServeTheNextCall) {
  make_service(2);  // two pairs: exactly one stream
  ASSERT_NE(port_of(invite("call-1")), 0);
  EXPECT_EQ(invite("call-2"), "error");
  EXPECT_EQ(service_->session_count(), 1u);
  ASSERT_TRUE(protocol::session_statistics_from_json(remove("call-1")).has_value());
  EXPECT_EQ(sockets_.open_count(), 0u);
  const auto port = port_of(invite("call-2"));
  EXPECT_NE(port, 0);
  EXPECT_EQ(service_->session_count(), 1u);
  EXPECT_EQ(sockets_.open_count(), 4u);
}

TEST_F(ServiceTest, DrainRefusesNewSessionsAndCallsBackWhenTheLastOneIsRemoved) {
  make_service();
  ASSERT_NE(port_of(invite("call-1")), 0);
  ASSERT_NE(port_of(ok_200("call-1")), 0);
  int drained = 0;
  service_->drain([&] { ++drained; });
  EXPECT_EQ(drained, 0);
  EXPECT_EQ(invite("call-2"), "halting");
  EXPECT_EQ(service_->session_count(), 1u);
  // The existing call is still served (a re-INVITE).
  Update reinvite;
  reinvite.call_id = "call-1";
  reinvite.cseq = "2";
  reinvite.to_tag = "15488SIPpTag011";
  reinvite.media = audio(caller_);
  EXPECT_EQ(handle(make_update(reinvite)).rfind("127.0.0.1 ", 0), 0u);
  const auto summary = nlohmann::json::parse(service_->summary_json());
  EXPECT_EQ(summary["status"], "halting");

  ASSERT_TRUE(protocol::session_statistics_from_json(remove("call-1")).has_value());
  // Posted after the answer (see below): it runs within the next turns of the event loop, which
  // a loaded machine may not reach before the answer is seen.
  EXPECT_TRUE(pump_until(io_, [&] { return drained == 1; }));
  EXPECT_EQ(drained, 1);
  EXPECT_EQ(service_->session_count(), 0u);
}

// The callback is posted (the answer that ended the last session goes out first), so it runs
// on the next turn of the event loop.
TEST_F(ServiceTest, DrainWithoutSessionsCallsBackAtOnce) {
  make_service();
  int drained = 0;
  service_->drain([&] { ++drained; });
  EXPECT_TRUE(pump_until(io_, [&] { return drained == 1; }));
  EXPECT_EQ(drained, 1);
}

TEST_F(ServiceTest, ExpireAllReportsEverySessionAndClosesSockets) {
  make_service();
  ASSERT_NE(port_of(invite("call-1")), 0);
  ASSERT_NE(port_of(ok_200("call-1")), 0);
  ASSERT_NE(port_of(invite("call-2")), 0);
  EXPECT_EQ(sockets_.open_count(), 8u);

  service_->expire_all();
  ASSERT_EQ(expired_.size(), 2u);
  std::vector<std::string> calls{expired_[0].statistics.call_id, expired_[1].statistics.call_id};
  std::sort(calls.begin(), calls.end());
  EXPECT_EQ(calls, (std::vector<std::string>{"call-1", "call-2"}));
  for (const auto& e : expired_) EXPECT_EQ(e.origin, from_.to_string());
  EXPECT_EQ(service_->session_count(), 0u);
  EXPECT_EQ(service_->engine().stream_count(), 0u);
  EXPECT_EQ(sockets_.open_count(), 0u);
}

TEST_F(ServiceTest, StreamWithoutMediaExpiresAndIsReported) {
  make_service();
  ASSERT_NE(port_of(invite()), 0);
  ASSERT_NE(port_of(ok_200()), 0);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(pump_until(io_, [&] { return !expired_.empty(); }, {}, 3000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  ASSERT_EQ(expired_.size(), 1u);
  const auto& s = expired_[0].statistics;
  EXPECT_EQ(s.call_id, "call-1");
  ASSERT_EQ(s.streams.size(), 1u);
  EXPECT_EQ(s.streams[0].status, "no-traffic timeout");
  EXPECT_EQ(s.streams[0].timeout_wait, 1);
  EXPECT_EQ(service_->session_count(), 0u);
  EXPECT_EQ(service_->engine().stream_count(), 0u);
  EXPECT_EQ(sockets_.open_count(), 0u);
  // Reported once, not at every sweep.
  pump_for(io_, 300ms);
  EXPECT_EQ(expired_.size(), 1u);
  EXPECT_EQ(remove(), "error");
}

TEST_F(ServiceTest, SummaryHoldsCountsLoadAndTheDatapathObject) {
  make_service();
  const auto callee_side = port_of(invite());
  const auto caller_side = port_of(ok_200());
  caller_.rtp().send(endpoint("127.0.0.1", caller_side), rtp_packet(0x1111, 1));
  ASSERT_TRUE(pump_until(io_, [&] { return callee_.rtp().received().size() == 1; }, {&callee_}));
  callee_.rtp().send(endpoint("127.0.0.1", callee_side), rtp_packet(0x2222, 1));
  ASSERT_TRUE(pump_until(io_, [&] { return caller_.rtp().received().size() == 1; }, {&caller_}));

  for (const auto& text : {service_->summary_json(), [&] {
                             protocol::RelayRequest r;
                             r.command = "summary";
                             return handle(r);
                           }()}) {
    const auto summary = nlohmann::json::parse(text);
    EXPECT_EQ(summary["ip"], "127.0.0.1");
    EXPECT_EQ(summary["status"], "active");
    EXPECT_EQ(summary["session_count"], 1);
    EXPECT_EQ(summary["stream_count"], (nlohmann::json{{"audio", 1}}));
    EXPECT_EQ(summary["load"], 1);
    ASSERT_TRUE(summary.contains("datapath")) << text;
    const auto& dp = summary["datapath"];
    EXPECT_EQ(dp["name"], "userspace");
    EXPECT_EQ(dp["flows"], 1);
    EXPECT_EQ(dp["handoffs"], 1);
    EXPECT_EQ(dp["handoff_errors"], 0);
    EXPECT_EQ(dp["relayed_packets"], 2);
    EXPECT_EQ(dp["dropped_strangers"], 0);
  }

  protocol::RelayRequest sessions;
  sessions.command = "sessions";
  auto list = protocol::session_list_from_json(handle(sessions));
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list.value().size(), 1u);
  EXPECT_EQ(list.value()[0].call_id, "call-1");
}

}  // namespace
}  // namespace mpx::relay::test
