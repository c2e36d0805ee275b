// The three forms of the signaling_ip header (compat spec 5.4) and malformed values.
#include "relay/session/signaling_ip.hpp"

#include <gtest/gtest.h>

namespace mpx::relay::session {
namespace {

using boost::asio::ip::make_address_v4;

TEST(RelaySessionSignalingIp, SingleAddress) {
  auto r = parse_signaling_ip("198.51.100.7");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r.value().signaling_ip, make_address_v4("198.51.100.7"));
  EXPECT_FALSE(r.value().destination_ip);
  EXPECT_FALSE(r.value().username);
}

TEST(RelaySessionSignalingIp, SourceUnderscoreDestination) {
  auto r = parse_signaling_ip("198.51.100.7_192.0.2.20");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r.value().signaling_ip, make_address_v4("198.51.100.7"));
  EXPECT_EQ(r.value().destination_ip, make_address_v4("192.0.2.20"));
}

TEST(RelaySessionSignalingIp, JsonObjectWithUsername) {
  auto r = parse_signaling_ip(
      R"({"signaling_ip": "198.51.100.7", "destination_ip": "192.0.2.20", "username": "alice"})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r.value().signaling_ip, make_address_v4("198.51.100.7"));
  EXPECT_EQ(r.value().destination_ip, make_address_v4("192.0.2.20"));
  EXPECT_EQ(r.value().username, "alice");
}

TEST(RelaySessionSignalingIp, JsonKeysAreOptional) {
  auto r = parse_signaling_ip(R"({"username": "bob"})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r.value().signaling_ip);
  EXPECT_EQ(r.value().username, "bob");
  auto empty = parse_signaling_ip("{}");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty.value(), SignalingAddresses{});
}

TEST(RelaySessionSignalingIp, MalformedValuesAreClearErrors) {
  struct Case {
    const char* value;
    const char* error;
  };
  for (const Case& c : {
           Case{"", "signaling_ip: empty value"},
           Case{"10.0.0", "signaling_ip: the value is not an IPv4 address: \"10.0.0\""},
           Case{"host.example", "signaling_ip: the value is not an IPv4 address: \"host.example\""},
           Case{"10.0.0.256", "signaling_ip: the value is not an IPv4 address: \"10.0.0.256\""},
           Case{"10.0.0.1_", "signaling_ip: the destination of SRC_DST is not an IPv4 address: \"\""},
           Case{"_10.0.0.1", "signaling_ip: the source of SRC_DST is not an IPv4 address: \"\""},
           Case{"{not json", "signaling_ip: starts with '{' but is not a JSON object"},
           Case{R"({"signaling_ip": 7})", "signaling_ip: \"signaling_ip\" must be a string"},
           Case{R"({"destination_ip": "x"})",
                "signaling_ip: \"destination_ip\" is not an IPv4 address: \"x\""},
           Case{R"({"username": ["a"]})", "signaling_ip: \"username\" must be a string"},
       }) {
    auto r = parse_signaling_ip(c.value);
    ASSERT_FALSE(r.has_value()) << c.value;
    EXPECT_EQ(r.error().message, c.error) << c.value;
  }
}

}  // namespace
}  // namespace mpx::relay::session
