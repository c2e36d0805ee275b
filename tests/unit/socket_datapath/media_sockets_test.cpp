// MediaSockets without flows: bind errors, punting to the Receiver with the right local and
// source, truncation, send() and its errors, closing (also from inside the Receiver), the
// destructor, and draining more datagrams than one wake-up's budget.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/unit/socket_datapath/socket_fixture.hpp"

namespace mpx::datapath::test {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using MediaSocketsTest = SocketTest;

TEST_F(MediaSocketsTest, OpenRefusesTheUnspecifiedAddressPortZeroAndIpv6) {
  auto any = sockets_.open(endpoint("0.0.0.0", 40000));
  ASSERT_FALSE(any);
  EXPECT_TRUE(contains(any.error().message, "0.0.0.0")) << any.error().message;
  EXPECT_FALSE(sockets_.open(endpoint("127.0.0.1", 0)));
  EXPECT_FALSE(sockets_.open(Endpoint(boost::asio::ip::make_address("::1"), 40000)));
  EXPECT_EQ(sockets_.open_count(), 0u);
}

TEST_F(MediaSocketsTest, OpenReportsAnEndpointAlreadyInUse) {
  Peer squatter("127.0.0.1");  // holds a port the kernel chose
  auto opened = sockets_.open(squatter.endpoint());
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message,
            "bind 127.0.0.1:" + std::to_string(squatter.endpoint().port()) +
                ": Address already in use");
  EXPECT_FALSE(sockets_.is_open(squatter.endpoint()));
  EXPECT_EQ(sockets_.open_count(), 0u);
}

TEST_F(MediaSocketsTest, OpenReportsAnAddressNotOnThisHost) {
  auto opened = sockets_.open(endpoint("192.0.2.254", 40000));  // TEST-NET-1, not on this host
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message, "bind 192.0.2.254:40000: Cannot assign requested address");
}

TEST_F(MediaSocketsTest, DoubleOpenIsAnErrorAndCloseAllowsReopening) {
  const Endpoint local = open_relay_port();
  EXPECT_TRUE(sockets_.is_open(local));
  auto again = sockets_.open(local);
  ASSERT_FALSE(again);
  EXPECT_TRUE(contains(again.error().message, "already open")) << again.error().message;
  EXPECT_EQ(sockets_.open_count(), 1u);

  sockets_.close(local);
  EXPECT_FALSE(sockets_.is_open(local));
  EXPECT_EQ(sockets_.open_count(), 0u);
  sockets_.close(local);  // no-op
  EXPECT_TRUE(sockets_.open(local)) << "the port must be free again after close()";
  EXPECT_EQ(sockets_.open_count(), 1u);
}

TEST_F(MediaSocketsTest, PuntsUnclaimedPacketsWithLocalSourceDataAndTime) {
  const Endpoint first = open_relay_port("127.0.0.1");
  const Endpoint second = open_relay_port("127.0.0.2");
  Peer peer("127.0.0.5");
  const auto before = std::chrono::steady_clock::now();
  peer.send(first, "hello");
  peer.send(second, "world!");
  ASSERT_TRUE(pump_until([&] { return punted_.size() == 2; }));
  const auto after = std::chrono::steady_clock::now();

  // The two sockets may be served in either order.
  const Punted& to_first = punted_[0].local == first ? punted_[0] : punted_[1];
  const Punted& to_second = punted_[0].local == first ? punted_[1] : punted_[0];
  EXPECT_EQ(to_first.local, first);
  EXPECT_EQ(to_first.source, peer.endpoint());
  EXPECT_EQ(to_first.data, bytes_of("hello"));
  EXPECT_EQ(to_second.local, second);
  EXPECT_EQ(to_second.source, peer.endpoint());
  EXPECT_EQ(to_second.data, bytes_of("world!"));
  EXPECT_GE(to_first.received, before);
  EXPECT_LE(to_first.received, after);

  EXPECT_EQ(sockets_.stats().received_packets, 2u);
  EXPECT_EQ(sockets_.stats().received_bytes, 11u);
  EXPECT_EQ(sockets_.stats().punted_packets, 2u);
  EXPECT_EQ(sockets_.stats().forwarded_packets, 0u);
}

// Sockets opened before start() (a restarted relay binds its recovered sessions' ports before its
// engine runs) keep their datagrams queued in the kernel until start(), then deliver them all.
TEST_F(MediaSocketsTest, NothingIsReadBeforeStartAndNothingIsLost) {
  MediaSockets later(io_.get_executor());
  const Endpoint local = endpoint("127.0.0.1", open_relay_port().port());
  sockets_.close(local);
  ASSERT_TRUE(later.open(local).has_value());
  Peer peer("127.0.0.5");
  for (int i = 0; i < 5; ++i) {
    peer.send(local, "early");
  }
  pump_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(later.started());
  EXPECT_EQ(later.stats().received_packets, 0u);
  std::vector<Bytes> got;
  later.start([&](const MediaSockets::Packet& packet) {
    got.emplace_back(packet.data.begin(), packet.data.end());
  });
  ASSERT_TRUE(pump_until([&] { return got.size() == 5; }));
  EXPECT_EQ(got[0], bytes_of("early"));
  // A socket opened after start() is read at once.
  const Endpoint second = endpoint("127.0.0.2", local.port());
  ASSERT_TRUE(later.open(second).has_value());
  peer.send(second, "late");
  ASSERT_TRUE(pump_until([&] { return got.size() == 6; }));
}

TEST_F(MediaSocketsTest, DropsAndCountsDatagramsLongerThanASlot) {
  const Endpoint local = open_relay_port();
  Peer peer("127.0.0.5");
  peer.send(local, Bytes(MediaSockets::kSlotSize + 1, 0xab));
  peer.send(local, Bytes(3000, 0xcd));
  peer.send(local, Bytes(MediaSockets::kSlotSize, 0xef));  // exactly one slot: kept whole
  ASSERT_TRUE(pump_until([&] { return sockets_.stats().received_packets == 3; }));
  pump_for(std::chrono::milliseconds(20));
  EXPECT_EQ(sockets_.stats().truncated, 2u);
  EXPECT_EQ(sockets_.stats().received_bytes, MediaSockets::kSlotSize * 2 + 1 + 3000);
  ASSERT_EQ(punted_.size(), 1u);
  EXPECT_EQ(punted_[0].data, Bytes(MediaSockets::kSlotSize, 0xef));
}

TEST_F(MediaSocketsTest, SendLeavesFromTheBoundSocket) {
  const Endpoint local = open_relay_port();
  Peer peer("127.0.0.5");
  const Bytes payload = bytes_of("relayed by the relay");
  ASSERT_TRUE(sockets_.send(local, peer.endpoint(), payload));
  ASSERT_TRUE(pump_until([&] { return peer.received().size() == 1; }, {&peer}));
  EXPECT_EQ(peer.received()[0].source, local);
  EXPECT_EQ(peer.received()[0].data, payload);
  EXPECT_EQ(sockets_.stats().sent_packets, 1u);
  EXPECT_EQ(sockets_.stats().sent_bytes, payload.size());
  EXPECT_EQ(sockets_.stats().send_errors, 0u);
}

TEST_F(MediaSocketsTest, SendErrorsAreReturnedAndCounted) {
  const Endpoint local = open_relay_port();
  // Broadcast without SO_BROADCAST: the kernel refuses with EACCES.
  auto refused = sockets_.send(local, endpoint("255.255.255.255", 9), bytes_of("x"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "send " + socket_detail::endpoint_text(local) +
                " -> 255.255.255.255:9: Permission denied");
  EXPECT_EQ(sockets_.stats().send_errors, 1u);

  auto not_open = sockets_.send(endpoint("127.0.0.1", 1), endpoint("127.0.0.1", 9), {});
  ASSERT_FALSE(not_open);
  EXPECT_TRUE(contains(not_open.error().message, "not open")) << not_open.error().message;
  EXPECT_EQ(sockets_.stats().sent_packets, 0u);
}

TEST_F(MediaSocketsTest, ClosedSocketsStopReceiving) {
  const Endpoint local = open_relay_port();
  Peer peer("127.0.0.5");
  peer.send(local, "one");
  ASSERT_TRUE(pump_until([&] { return punted_.size() == 1; }));
  sockets_.close(local);
  peer.send(local, "two");
  pump_for(std::chrono::milliseconds(50));
  EXPECT_EQ(punted_.size(), 1u);
  EXPECT_EQ(sockets_.stats().received_packets, 1u);
}

TEST_F(MediaSocketsTest, ReceiverMayCloseTheSocketItIsServing) {
  const Endpoint doomed = open_relay_port();
  const Endpoint other = open_relay_port();
  Peer peer("127.0.0.5");
  on_punt_ = [&](const MediaSockets::Packet& packet) {
    if (packet.local == doomed) sockets_.close(doomed);
  };
  for (int i = 0; i < 10; ++i) peer.send(doomed, "burst");
  peer.send(other, "still served");
  ASSERT_TRUE(pump_until([&] { return punted_.size() == 2; }));
  pump_for(std::chrono::milliseconds(50));
  EXPECT_EQ(punted_.size(), 2u) << "the rest of the closed socket's batch must be dropped";
  EXPECT_FALSE(sockets_.is_open(doomed));
  EXPECT_TRUE(sockets_.is_open(other));
}

TEST_F(MediaSocketsTest, DrainsMoreThanOneWakeUpsBudgetWithoutNewArrivals) {
  // 300 datagrams queued before the loop runs: more than kBatchesPerWake * kBatchSize (256), so
  // the socket's first turn ends with datagrams left that no new arrival will announce.
  static_assert(MediaSockets::kBatchesPerWake * MediaSockets::kBatchSize < 300);
  const Endpoint local = open_relay_port();
  Peer peer("127.0.0.5");
  for (int i = 0; i < 300; ++i) peer.send(local, "x");
  ASSERT_TRUE(pump_until([&] { return punted_.size() == 300; }))
      << "punted " << punted_.size();
}

TEST_F(MediaSocketsTest, DestructorClosesEverySocketAndLeavesHarmlessHandlers) {
  boost::asio::io_context io;
  auto sockets = std::make_unique<MediaSockets>(io.get_executor(), nullptr);
  Endpoint local = endpoint("127.0.0.1", 0);
  for (std::uint16_t port = 41000; port < 41100; ++port) {
    if (sockets->open(endpoint("127.0.0.1", port))) {
      local = endpoint("127.0.0.1", port);
      break;
    }
  }
  ASSERT_NE(local.port(), 0);
  Peer peer("127.0.0.5");
  peer.send(local, "one");
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(sockets->stats().punted_packets, 1u);  // a null Receiver only counts
  peer.send(local, "pending while the object dies");
  sockets.reset();
  // The cancelled wait's handler runs after the destruction and must not touch the object
  // (an ASan build reports it if it does).
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(sockets_.open(local)) << "the destructor must have released the port";
}

}  // namespace
}  // namespace mpx::datapath::test
