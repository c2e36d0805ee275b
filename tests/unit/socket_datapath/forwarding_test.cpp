// The userspace forwarding table through MediaSockets: both directions with exact counters and
// last_activity, the source gate, removal and close(), transmit_every, a 2000-packet burst,
// forwarding send errors, install errors, installing from the Receiver (latching), and several
// flows sharing one input socket.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "tests/unit/socket_datapath/socket_fixture.hpp"

namespace mpx::datapath::test {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Bytes numbered(std::uint32_t n, std::size_t size = 172) {
  Bytes data(size, 0x5a);
  std::memcpy(data.data(), &n, sizeof n);
  return data;
}

std::uint32_t number_of(const Bytes& data) {
  std::uint32_t n = 0;
  std::memcpy(&n, data.data(), sizeof n);
  return n;
}

class ForwardingTest : public SocketTest {
 protected:
  ForwardingTest()
      : caller_("127.0.0.2"),
        callee_("127.0.0.3"),
        stranger_("127.0.0.4"),
        caller_local_(open_relay_port("127.0.0.1")),
        callee_local_(open_relay_port("127.0.0.1")),
        flow_{caller_.endpoint(), caller_local_, callee_local_, callee_.endpoint()} {}

  Peer caller_;
  Peer callee_;
  Peer stranger_;
  Endpoint caller_local_;
  Endpoint callee_local_;
  Flow flow_;
};

TEST_F(ForwardingTest, ForwardsBothDirectionsWithExactCounters) {
  ASSERT_TRUE(sockets_.install(flow_));
  EXPECT_EQ(sockets_.flows(), std::vector<Flow>{flow_});
  const auto before = std::chrono::steady_clock::now();
  caller_.send(caller_local_, Bytes(100, 1));
  caller_.send(caller_local_, Bytes(200, 2));
  caller_.send(caller_local_, Bytes(300, 3));
  ASSERT_TRUE(pump_until([&] { return callee_.received().size() == 3; }, {&callee_}));
  callee_.send(callee_local_, Bytes(50, 4));
  callee_.send(callee_local_, Bytes(60, 5));
  ASSERT_TRUE(pump_until([&] { return caller_.received().size() == 2; }, {&caller_}));
  const auto after = std::chrono::steady_clock::now();

  for (const Datagram& d : callee_.received()) EXPECT_EQ(d.source, callee_local_);
  for (const Datagram& d : caller_.received()) EXPECT_EQ(d.source, caller_local_);
  EXPECT_EQ(callee_.received()[0].data, Bytes(100, 1));
  EXPECT_EQ(callee_.received()[2].data, Bytes(300, 3));
  EXPECT_EQ(caller_.received()[1].data, Bytes(60, 5));

  auto counters = sockets_.counters(flow_);
  ASSERT_TRUE(counters) << counters.error().message;
  EXPECT_EQ(counters.value().caller_packets, 3u);
  EXPECT_EQ(counters.value().caller_bytes, 600u);
  EXPECT_EQ(counters.value().callee_packets, 2u);
  EXPECT_EQ(counters.value().callee_bytes, 110u);
  EXPECT_GT(counters.value().last_activity, before);
  EXPECT_LE(counters.value().last_activity, after);

  EXPECT_TRUE(punted_.empty());
  EXPECT_EQ(sockets_.stats().forwarded_packets, 5u);
  EXPECT_EQ(sockets_.stats().forwarded_bytes, 710u);
  EXPECT_EQ(sockets_.stats().received_packets, 5u);
}

TEST_F(ForwardingTest, LastActivityStaysAtTheEpochWithoutTraffic) {
  ASSERT_TRUE(sockets_.install(flow_));
  auto counters = sockets_.counters(flow_);
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters.value().last_activity, std::chrono::steady_clock::time_point{});
  EXPECT_EQ(counters.value().caller_packets + counters.value().callee_packets, 0u);
}

TEST_F(ForwardingTest, PacketsFromOtherSourcesArePuntedNotForwarded) {
  ASSERT_TRUE(sockets_.install(flow_));
  stranger_.send(caller_local_, "intruder");
  callee_.send(caller_local_, "callee on the wrong port");
  ASSERT_TRUE(pump_until([&] { return punted_.size() == 2; }));
  pump_for(std::chrono::milliseconds(30), {&caller_, &callee_});
  EXPECT_TRUE(callee_.received().empty());
  EXPECT_TRUE(caller_.received().empty());
  EXPECT_EQ(punted_[0].source, stranger_.endpoint());
  EXPECT_EQ(punted_[0].local, caller_local_);
  EXPECT_EQ(punted_[1].source, callee_.endpoint());
  auto counters = sockets_.counters(flow_);
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters.value().caller_packets, 0u);
  EXPECT_EQ(counters.value().callee_packets, 0u);
}

TEST_F(ForwardingTest, RemoveReturnsFinalCountersAndPacketsArePuntedAgain) {
  ASSERT_TRUE(sockets_.install(flow_));
  caller_.send(caller_local_, Bytes(40, 1));
  callee_.send(callee_local_, Bytes(30, 2));
  ASSERT_TRUE(pump_until(
      [&] { return callee_.received().size() == 1 && caller_.received().size() == 1; },
      {&caller_, &callee_}));

  auto last = sockets_.remove(flow_);
  ASSERT_TRUE(last) << last.error().message;
  EXPECT_EQ(last.value().caller_packets, 1u);
  EXPECT_EQ(last.value().caller_bytes, 40u);
  EXPECT_EQ(last.value().callee_packets, 1u);
  EXPECT_EQ(last.value().callee_bytes, 30u);
  EXPECT_TRUE(sockets_.flows().empty());

  caller_.send(caller_local_, "after removal");
  ASSERT_TRUE(pump_until([&] { return punted_.size() == 1; }));
  EXPECT_EQ(punted_[0].source, caller_.endpoint());
  pump_for(std::chrono::milliseconds(20), {&callee_});
  EXPECT_EQ(callee_.received().size(), 1u);

  auto again = sockets_.remove(flow_);
  ASSERT_FALSE(again);
  EXPECT_TRUE(contains(again.error().message, "not installed")) << again.error().message;
  EXPECT_FALSE(sockets_.counters(flow_));
}

TEST_F(ForwardingTest, CloseRemovesTheFlowsUsingTheSocket) {
  ASSERT_TRUE(sockets_.install(flow_));
  sockets_.close(callee_local_);
  EXPECT_TRUE(sockets_.flows().empty());
  EXPECT_FALSE(sockets_.counters(flow_));
  caller_.send(caller_local_, "to a closed peer socket");
  ASSERT_TRUE(pump_until([&] { return punted_.size() == 1; }));
  EXPECT_EQ(sockets_.stats().forwarded_packets, 0u);
  EXPECT_EQ(sockets_.stats().send_errors, 0u);
}

TEST_F(ForwardingTest, TransmitEveryTwoSendsEverySecondPacket) {
  sockets_.set_transmit_every(2);
  EXPECT_EQ(sockets_.transmit_every(), 2u);
  ASSERT_TRUE(sockets_.install(flow_));
  for (std::uint32_t i = 1; i <= 10; ++i) caller_.send(caller_local_, numbered(i));
  ASSERT_TRUE(pump_until([&] { return sockets_.stats().received_packets == 10; }));
  pump_for(std::chrono::milliseconds(30), {&callee_});
  ASSERT_EQ(callee_.received().size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(number_of(callee_.received()[k].data), 2 * (k + 1));  // the 2nd, 4th, ...
  }
  auto counters = sockets_.counters(flow_);
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters.value().caller_packets, 10u);
  EXPECT_EQ(sockets_.stats().transmit_skipped, 5u);
  EXPECT_EQ(sockets_.stats().forwarded_packets, 5u);

  sockets_.set_transmit_every(0);
  EXPECT_EQ(sockets_.transmit_every(), 1u);
}

TEST_F(ForwardingTest, ForwardsABurstOf2000PacketsInOrder) {
  ASSERT_TRUE(sockets_.install(flow_));
  constexpr std::uint32_t kTotal = 2000;
  constexpr std::uint32_t kChunk = 100;  // paced so no socket buffer overflows
  for (std::uint32_t sent = 0; sent < kTotal; sent += kChunk) {
    for (std::uint32_t i = sent; i < sent + kChunk; ++i) {
      caller_.send(caller_local_, numbered(i));
      callee_.send(callee_local_, numbered(i, 100));
    }
    ASSERT_TRUE(pump_until(
        [&] {
          return callee_.received().size() == sent + kChunk &&
                 caller_.received().size() == sent + kChunk;
        },
        {&caller_, &callee_}))
        << "callee got " << callee_.received().size() << ", caller got "
        << caller_.received().size();
  }
  for (std::uint32_t i = 0; i < kTotal; ++i) {
    ASSERT_EQ(number_of(callee_.received()[i].data), i);
    ASSERT_EQ(number_of(caller_.received()[i].data), i);
  }
  auto counters = sockets_.counters(flow_);
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters.value().caller_packets, kTotal);
  EXPECT_EQ(counters.value().caller_bytes, kTotal * 172u);
  EXPECT_EQ(counters.value().callee_packets, kTotal);
  EXPECT_EQ(counters.value().callee_bytes, kTotal * 100u);
  EXPECT_EQ(sockets_.stats().forwarded_packets, 2 * kTotal);
  EXPECT_EQ(sockets_.stats().send_errors, 0u);
  EXPECT_TRUE(punted_.empty());
}

TEST_F(ForwardingTest, ForwardingSendErrorsAreCounted) {
  // Broadcast without SO_BROADCAST: every forwarded datagram is refused (EACCES).
  const Flow to_broadcast{caller_.endpoint(), caller_local_, callee_local_,
                          endpoint("255.255.255.255", 9)};
  ASSERT_TRUE(sockets_.install(to_broadcast));
  for (int i = 0; i < 3; ++i) caller_.send(caller_local_, "lost");
  ASSERT_TRUE(pump_until([&] { return sockets_.stats().send_errors == 3; }))
      << "send_errors " << sockets_.stats().send_errors;
  EXPECT_EQ(sockets_.stats().forwarded_packets, 0u);
  auto counters = sockets_.counters(to_broadcast);
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters.value().caller_packets, 3u) << "received packets count even if not sent";
}

TEST_F(ForwardingTest, InstallRejectsClosedSocketsOverlapsAndUnusableRemotes) {
  const Endpoint closed = endpoint("127.0.0.1", 1);
  auto not_open = sockets_.install(Flow{caller_.endpoint(), caller_local_, closed,
                                        callee_.endpoint()});
  ASSERT_FALSE(not_open);
  EXPECT_TRUE(contains(not_open.error().message, "127.0.0.1:1 is not open"))
      << not_open.error().message;

  ASSERT_TRUE(sockets_.install(flow_));
  const Endpoint third_local = open_relay_port();
  // Same caller leg, other callee side.
  auto same_caller = sockets_.install(
      Flow{caller_.endpoint(), caller_local_, third_local, stranger_.endpoint()});
  ASSERT_FALSE(same_caller);
  EXPECT_TRUE(contains(same_caller.error().message, "overlaps installed flow"))
      << same_caller.error().message;
  // Same callee leg, used as the caller leg of another flow.
  auto same_callee = sockets_.install(
      Flow{callee_.endpoint(), callee_local_, third_local, stranger_.endpoint()});
  ASSERT_FALSE(same_callee);
  EXPECT_TRUE(contains(same_callee.error().message, "overlaps")) << same_callee.error().message;

  auto unspecified = sockets_.install(
      Flow{stranger_.endpoint(), third_local, caller_local_, endpoint("0.0.0.0", 5000)});
  ASSERT_FALSE(unspecified);
  auto port_zero = sockets_.install(
      Flow{endpoint("127.0.0.9", 0), third_local, caller_local_, stranger_.endpoint()});
  ASSERT_FALSE(port_zero);
  auto same_legs = sockets_.install(
      Flow{stranger_.endpoint(), third_local, third_local, stranger_.endpoint()});
  ASSERT_FALSE(same_legs);
  EXPECT_EQ(sockets_.flows(), std::vector<Flow>{flow_});

  // A different remote on an already used local socket is a different leg: allowed.
  EXPECT_TRUE(sockets_.install(
      Flow{stranger_.endpoint(), caller_local_, third_local, endpoint("127.0.0.9", 7000)}));
  EXPECT_EQ(sockets_.flows().size(), 2u);

  auto unknown = sockets_.counters(
      Flow{caller_.endpoint(), caller_local_, third_local, callee_.endpoint()});
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(contains(unknown.error().message, "not installed")) << unknown.error().message;
}

TEST_F(ForwardingTest, FlowInstalledFromTheReceiverForwardsTheRestOfTheBatch) {
  // The relay latches on the first packet and hands the flow over at once: the packets behind
  // it in the same recvmmsg batch must already be forwarded.
  on_punt_ = [&](const MediaSockets::Packet& packet) {
    if (packet.source == caller_.endpoint()) {
      ASSERT_TRUE(sockets_.install(flow_));
    }
  };
  for (std::uint32_t i = 0; i < 5; ++i) caller_.send(caller_local_, numbered(i));
  ASSERT_TRUE(pump_until([&] { return callee_.received().size() == 4; }, {&callee_}));
  ASSERT_EQ(punted_.size(), 1u);
  EXPECT_EQ(number_of(punted_[0].data), 0u);
  EXPECT_EQ(number_of(callee_.received()[0].data), 1u);
  auto counters = sockets_.counters(flow_);
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters.value().caller_packets, 4u);
}

TEST_F(ForwardingTest, FlowsSharingAnInputSocketGoToTheirOwnOutputs) {
  const Endpoint other_local = open_relay_port();
  Peer other_callee("127.0.0.6");
  const Flow other{stranger_.endpoint(), caller_local_, other_local, other_callee.endpoint()};
  ASSERT_TRUE(sockets_.install(flow_));
  ASSERT_TRUE(sockets_.install(other));
  for (std::uint32_t i = 0; i < 20; ++i) {
    caller_.send(caller_local_, numbered(i));
    stranger_.send(caller_local_, numbered(100 + i));
  }
  ASSERT_TRUE(pump_until(
      [&] { return callee_.received().size() == 20 && other_callee.received().size() == 20; },
      {&callee_, &other_callee}));
  for (std::uint32_t i = 0; i < 20; ++i) {
    EXPECT_EQ(number_of(callee_.received()[i].data), i);
    EXPECT_EQ(callee_.received()[i].source, callee_local_);
    EXPECT_EQ(number_of(other_callee.received()[i].data), 100 + i);
    EXPECT_EQ(other_callee.received()[i].source, other_local);
  }
}

}  // namespace
}  // namespace mpx::datapath::test
