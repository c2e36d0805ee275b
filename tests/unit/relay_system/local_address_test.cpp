// relay/system/local_address: the local address the routing table picks toward a destination.
#include <gtest/gtest.h>

#include "relay/system/local_address.hpp"

namespace {

using boost::asio::ip::make_address_v4;

TEST(LocalAddress, LoopbackDestinationsAreReachedFromLoopback) {
  auto local = mpx::relay::system::local_address_toward(make_address_v4("127.0.0.2"));
  ASSERT_TRUE(local) << local.error().message;
  EXPECT_TRUE(local.value().is_loopback()) << local.value().to_string();
}

TEST(LocalAddress, AnUnroutableDestinationIsAnErrorNamingIt) {
  // Linux refuses to connect a UDP socket to the broadcast address without SO_BROADCAST.
  auto local = mpx::relay::system::local_address_toward(make_address_v4("255.255.255.255"));
  ASSERT_FALSE(local);
  EXPECT_NE(local.error().message.find("255.255.255.255"), std::string::npos) << local.error().message;
}

}  // namespace
