// mpx's own [Dispatcher] options: the module socket's permissions and the answer budget.
#include <gtest/gtest.h>

#include <string>

#include "common/config/config.hpp"

namespace mpx::config {
namespace {

Result<Config> parse(const std::string& body) {
  return try_parse_config("[Dispatcher]\n" + body + "\n", "/etc/mediaproxy/config.ini",
                          "/etc/mediaproxy");
}

TEST(DispatcherOptions, DefaultsAreRestrictive) {
  const Config config;
  EXPECT_EQ(config.dispatcher.socket_mode, 0660U);
  EXPECT_FALSE(config.dispatcher.socket_owner.has_value());
  EXPECT_FALSE(config.dispatcher.socket_group.has_value());
  EXPECT_EQ(config.dispatcher.answer_budget, std::chrono::milliseconds(300));
}

TEST(DispatcherOptions, MetricsEndpointIsOffUnlessConfigured) {
  EXPECT_FALSE(parse("").value().dispatcher.listen_metrics.has_value());
  EXPECT_FALSE(parse("listen_metrics = none").value().dispatcher.listen_metrics.has_value());
  const auto on = parse("listen_metrics = 127.0.0.1").value().dispatcher.listen_metrics;
  ASSERT_TRUE(on.has_value());
  EXPECT_EQ(on->ip, boost::asio::ip::make_address_v4("127.0.0.1"));
  EXPECT_EQ(on->port, 25062);
  EXPECT_EQ(parse("listen_metrics = any:9100").value().dispatcher.listen_metrics->port, 9100);
  const auto bad = parse("listen_metrics = 127.0.0.1:70000");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("[Dispatcher] listen_metrics"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("none, any or an IPv4 address"), std::string::npos)
      << bad.error().message;
  const auto relay = try_parse_config("[Relay]\nlisten_metrics = 127.0.0.1\n",
                                      "/etc/mediaproxy/config.ini", "/etc/mediaproxy");
  ASSERT_TRUE(relay.has_value()) << relay.error().message;
  EXPECT_EQ(relay.value().relay.listen_metrics->port, 25063);
}

TEST(DispatcherOptions, SocketModeIsOctal) {
  EXPECT_EQ(parse("socket_mode = 0600").value().dispatcher.socket_mode, 0600U);
  EXPECT_EQ(parse("socket_mode = 666").value().dispatcher.socket_mode, 0666U);
  EXPECT_EQ(parse("socket_mode = 0").value().dispatcher.socket_mode, 0U);
  for (const char* bad : {"0800", "rw-rw----", "01000", "", "-1", "0x1a4", "07777"}) {
    auto parsed = parse(std::string("socket_mode = ") + bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_NE(parsed.error().message.find("socket_mode"), std::string::npos)
        << parsed.error().message;
    EXPECT_NE(parsed.error().message.find("octal"), std::string::npos) << parsed.error().message;
  }
}

TEST(DispatcherOptions, SocketOwnerAndGroup) {
  const auto config = parse("socket_owner = opensips\nsocket_group = 115").value();
  EXPECT_EQ(config.dispatcher.socket_owner, std::optional<std::string>("opensips"));
  EXPECT_EQ(config.dispatcher.socket_group, std::optional<std::string>("115"));
  EXPECT_FALSE(parse("socket_group = None").value().dispatcher.socket_group.has_value());
}

TEST(DispatcherOptions, AnswerBudgetStaysUnderTheModuleTimeout) {
  EXPECT_EQ(parse("answer_budget_ms = 250").value().dispatcher.answer_budget,
            std::chrono::milliseconds(250));
  EXPECT_EQ(parse("answer_budget_ms = 50").value().dispatcher.answer_budget,
            std::chrono::milliseconds(50));
  EXPECT_EQ(parse("answer_budget_ms = 450").value().dispatcher.answer_budget,
            std::chrono::milliseconds(450));
  for (const char* bad : {"500", "49", "0", "0.3", "300ms", ""}) {
    auto parsed = parse(std::string("answer_budget_ms = ") + bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_NE(parsed.error().message.find("answer_budget_ms"), std::string::npos)
        << parsed.error().message;
  }
}

}  // namespace
}  // namespace mpx::config

namespace mpx::config {
namespace {

TEST(DispatcherOptions, SipProxySelectsWhoEndsDialogs) {
  const Config defaults;
  EXPECT_EQ(defaults.dispatcher.sip_proxy, SipProxy::opensips);
  EXPECT_EQ(defaults.dispatcher.dialog_end_timeout, std::chrono::seconds(3));
  EXPECT_EQ(defaults.kamailio.socket_path, "/run/kamailio/kamailio_rpc.sock");
  auto parsed = try_parse_config(
      "[Dispatcher]\nsip_proxy = Kamailio\ndialog_end_timeout = 5\n"
      "[Kamailio]\nsocket_path = /run/kamailio/rpc.sock\n",
      "/etc/mediaproxy/config.ini", "/etc/mediaproxy");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed.value().dispatcher.sip_proxy, SipProxy::kamailio);
  EXPECT_EQ(parsed.value().dispatcher.dialog_end_timeout, std::chrono::seconds(5));
  EXPECT_EQ(parsed.value().kamailio.socket_path, "/run/kamailio/rpc.sock");
}

TEST(DispatcherOptions, UnknownSipProxyNamesTheChoices) {
  auto parsed = try_parse_config("[Dispatcher]\nsip_proxy = asterisk\n",
                                 "/etc/mediaproxy/config.ini", "/etc/mediaproxy");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().message,
            "/etc/mediaproxy/config.ini:2: [Dispatcher] sip_proxy = asterisk: invalid value; "
            "accepted: opensips, kamailio or none (who ends dialogs whose media died)");
}

}  // namespace
}  // namespace mpx::config
