// resolve_dispatcher with a fake DNS (IP literal without DNS, SRV first target with the configured
// port, A fallback, absent names, failures), retry_delay (spec 5.12) and links_options.
#include <gtest/gtest.h>

#include "relay/link/dispatcher_resolution.hpp"
#include "relay/link/link_options.hpp"
#include "relay/link/reconnect_policy.hpp"
#include "tests/integration/relay_link/fake_dns.hpp"

namespace mpx::relay::link {
namespace {

using namespace std::chrono_literals;
using testing::FakeDns;

DispatcherId at(const std::string& ip, std::uint16_t port) {
  return DispatcherId{boost::asio::ip::make_address_v4(ip), port};
}

TEST(RelayLinkResolve, IpLiteralIsUsedAsIsWithoutDns) {
  FakeDns dns;
  auto id = resolve_dispatcher({"192.0.2.7", 25070}, dns);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id.value(), at("192.0.2.7", 25070));
  EXPECT_EQ(dns.lookups.load(), 0);
  EXPECT_EQ(id.value()->to_string(), "192.0.2.7:25070");
}

TEST(RelayLinkResolve, SrvFirstTargetIsUsedWithTheConfiguredPort) {
  FakeDns dns;
  dns.set_srv("_sip._udp.example.com", {"proxy2.example.com", "proxy1.example.com"});
  dns.set_a("proxy2.example.com", {"198.51.100.2"});
  dns.set_a("proxy1.example.com", {"198.51.100.1"});
  dns.set_a("example.com", {"198.51.100.99"});
  auto id = resolve_dispatcher({"example.com", 25060}, dns);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id.value(), at("198.51.100.2", 25060));
}

TEST(RelayLinkResolve, WithoutSrvTheHostsARecordIsUsed) {
  FakeDns dns;
  dns.set_a("dispatcher.example.com", {"198.51.100.5", "198.51.100.6"});
  auto id = resolve_dispatcher({"dispatcher.example.com", 4000}, dns);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id.value(), at("198.51.100.5", 4000));
}

TEST(RelayLinkResolve, SrvFailureFallsBackToTheARecord) {
  FakeDns dns;
  dns.set_failing("_sip._udp.example.com", true);
  dns.set_a("example.com", {"198.51.100.9"});
  auto id = resolve_dispatcher({"example.com", 25060}, dns);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id.value(), at("198.51.100.9", 25060));
}

TEST(RelayLinkResolve, UnknownNameIsNoAddressAndAFailureIsAnError) {
  FakeDns dns;
  auto absent = resolve_dispatcher({"nowhere.example.com", 25060}, dns);
  ASSERT_TRUE(absent.has_value());
  EXPECT_FALSE(absent.value().has_value());

  dns.set_failing("broken.example.com", true);
  auto failed = resolve_dispatcher({"broken.example.com", 25060}, dns);
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.error().message.find("broken.example.com"), std::string::npos);
}

TEST(RelayLinkResolve, IsIpLiteral) {
  EXPECT_TRUE(is_ip_literal("10.0.0.1"));
  EXPECT_FALSE(is_ip_literal("example.com"));
  EXPECT_FALSE(is_ip_literal("10.0.0"));
  EXPECT_FALSE(is_ip_literal(""));
}

TEST(RelayLinkRetryDelay, FollowsSpec512) {
  const ReconnectTimes times{10s, 1s, 5s};
  EXPECT_EQ(retry_delay(LinkEnd::connect_failed, 0s, times), 10s);
  EXPECT_EQ(retry_delay(LinkEnd::certificate_error, 3600s, times), 10s);
  EXPECT_EQ(retry_delay(LinkEnd::lost, 4s, times), 10s);
  EXPECT_EQ(retry_delay(LinkEnd::lost, 5s, times), 1s);
  EXPECT_EQ(retry_delay(LinkEnd::lost, 3600s, times), 1s);
}

TEST(RelayLinkOptions, ComeFromRelayAndTlsSections) {
  config::RelayConfig relay;
  relay.dispatchers = {{"192.0.2.1", 25060}, {"example.com", 4000}};
  relay.passport = "O:mpx*, CN:dispatcher1.mpx.test";
  relay.dns_check_interval = 30s;
  relay.reconnect_delay = 7s;
  relay.keepalive_interval = 3s;
  config::TlsConfig tls_config;
  tls_config.verify_interval = 120s;
  auto options = links_options(relay, tls_config);
  ASSERT_TRUE(options.has_value());
  EXPECT_EQ(options.value().dispatchers, relay.dispatchers);
  EXPECT_EQ(options.value().dns_check_interval, 30s);
  EXPECT_EQ(options.value().link.reconnect.reconnect_delay, 7s);
  EXPECT_EQ(options.value().link.reconnect.quick_retry, 1s);
  EXPECT_EQ(options.value().link.keepalive_interval, 3s);
  EXPECT_EQ(options.value().link.verify_interval, 120s);
  ASSERT_TRUE(options.value().link.passport.has_value());
  EXPECT_EQ(options.value().link.passport->pattern(tls::SubjectAttribute::CN),
            "dispatcher1.mpx.test");

  relay.passport.reset();
  EXPECT_FALSE(links_options(relay, tls_config).value().link.passport.has_value());

  relay.passport = "XX:nothing";
  auto bad = links_options(relay, tls_config);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("Relay.passport"), std::string::npos);
}

}  // namespace
}  // namespace mpx::relay::link
