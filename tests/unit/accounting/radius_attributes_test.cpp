// MediaProxy's RADIUS attribute mapping (compat spec 8.2): every attribute of a typical session,
// the optional ones, the limits and the settings' path resolution.
#include <gtest/gtest.h>

#include <fstream>

#include "dispatcher/accounting/radius_attributes.hpp"
#include "dispatcher/accounting/radius_backend.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher {
namespace {

using boost::asio::ip::make_address_v4;

protocol::StreamStatistics stream(std::string media, std::string codec, std::int64_t start,
                                  std::int64_t end, std::uint64_t caller_bytes,
                                  std::uint64_t callee_bytes, std::optional<double> pdd,
                                  std::string caller_local) {
  protocol::StreamStatistics s;
  s.media_type = std::move(media);
  s.caller_codec = std::move(codec);
  s.start_time = start;
  s.end_time = end;
  s.caller_bytes = caller_bytes;
  s.callee_bytes = callee_bytes;
  s.post_dial_delay = pdd;
  s.caller_local = std::move(caller_local);
  return s;
}

protocol::SessionStatistics typical_session() {
  protocol::SessionStatistics session;
  session.call_id = "7a9f@host";
  session.from_tag = "a73";
  session.to_tag = "8d7f";
  session.start_time = 1700000000.5;
  session.duration = 312;
  session.caller_ua = "Blink 5.1";
  session.callee_ua = "Linphone";
  session.streams.push_back(stream("video", "H264", 0, 312, 1000, 2000, std::nullopt,
                                   "192.0.2.10:40000"));
  session.streams.push_back(stream("audio", "opus", 0, 312, 300, 400, 2.75, "192.0.2.11:40002"));
  session.streams.push_back(stream("audio", "PCMA", 5, 5, 7, 8, 9.9, "192.0.2.11:40004"));
  session.dispatcher = protocol::DispatcherAnnotations{std::string("d1"), false, std::nullopt};
  return session;
}

const RadiusAttribute* find(const std::vector<RadiusAttribute>& attributes, std::string_view name) {
  for (const auto& attribute : attributes) {
    if (attribute.name == name) {
      return &attribute;
    }
  }
  return nullptr;
}

TEST(RadiusAttributes, TypicalSessionMapsEveryAttributeInMediaProxyOrder) {
  const auto attributes = radius_attributes(typical_session());
  const std::vector<RadiusAttribute> expected{
      {"Acct-Status-Type", std::uint32_t{3}},
      {"User-Name", std::string("mediaproxy@default")},
      {"Acct-Session-Id", std::string("7a9f@host")},
      {"Acct-Session-Time", std::uint32_t{312}},
      {"Acct-Input-Octets", std::uint32_t{1307}},
      {"Acct-Output-Octets", std::uint32_t{2408}},
      {"Sip-From-Tag", std::string("a73")},
      {"Sip-To-Tag", std::string("8d7f")},
      {"NAS-IP-Address", make_address_v4("192.0.2.10")},
      {"Sip-User-Agents", std::string("Blink 5.1+Linphone")},
      // The third stream has start == end: not an application; sorted and unique.
      {"Sip-Applications", std::string("audio, video")},
      // Every stream's caller codec, in stream order.
      {"Media-Codecs", std::string("H264, opus, PCMA")},
      // The first stream that has a post-dial delay, truncated.
      {"Acct-Delay-Time", std::uint32_t{2}},
  };
  EXPECT_EQ(attributes, expected) << radius_attributes_text(attributes);
}

TEST(RadiusAttributes, UsernameFromStatisticsWins) {
  auto session = typical_session();
  session.username = "alice@example.com";
  const auto attributes = radius_attributes(session);
  ASSERT_NE(find(attributes, "User-Name"), nullptr);
  EXPECT_EQ(find(attributes, "User-Name")->value, RadiusValue(std::string("alice@example.com")));
}

TEST(RadiusAttributes, MediaInfoFollowsTimeoutAndIce) {
  auto session = typical_session();
  EXPECT_EQ(find(radius_attributes(session), "Media-Info"), nullptr);  // '' is not sent
  session.dispatcher->timed_out = true;
  EXPECT_EQ(find(radius_attributes(session), "Media-Info")->value,
            RadiusValue(std::string("timeout")));
  session.dispatcher->all_streams_ice = true;
  EXPECT_EQ(find(radius_attributes(session), "Media-Info")->value,
            RadiusValue(std::string("ICE session")));
  session.dispatcher->timed_out = false;
  EXPECT_EQ(find(radius_attributes(session), "Media-Info")->value,
            RadiusValue(std::string("ICE session")));
  session.dispatcher->all_streams_ice = false;
  EXPECT_EQ(find(radius_attributes(session), "Media-Info"), nullptr);
}

TEST(RadiusAttributes, MissingToTagStreamsAndDelayLeaveTheirAttributesOut) {
  auto session = typical_session();
  session.to_tag.reset();
  session.streams.clear();
  session.dispatcher.reset();
  const auto attributes = radius_attributes(session);
  EXPECT_EQ(find(attributes, "Sip-To-Tag"), nullptr);
  EXPECT_EQ(find(attributes, "NAS-IP-Address"), nullptr);
  EXPECT_EQ(find(attributes, "Sip-Applications"), nullptr);
  EXPECT_EQ(find(attributes, "Media-Codecs"), nullptr);
  EXPECT_EQ(find(attributes, "Acct-Delay-Time"), nullptr);
  EXPECT_EQ(find(attributes, "Acct-Input-Octets")->value, RadiusValue(std::uint32_t{0}));
  EXPECT_EQ(find(attributes, "Sip-From-Tag")->value, RadiusValue(std::string("a73")));
}

TEST(RadiusAttributes, NonIpv4RelayAddressLeavesNasIpOut) {
  auto session = typical_session();
  session.streams.front().caller_local = "[2001:db8::1]:40000";
  EXPECT_EQ(find(radius_attributes(session), "NAS-IP-Address"), nullptr);
  session.streams.front().caller_local = "garbage";
  EXPECT_EQ(find(radius_attributes(session), "NAS-IP-Address"), nullptr);
}

TEST(RadiusAttributes, OctetsAbove32BitsAddGigawords) {
  auto session = typical_session();
  session.streams.resize(1);
  session.streams[0].caller_bytes = (std::uint64_t{5} << 32U) + 17;
  session.streams[0].callee_bytes = 0xffffffffULL;
  const auto attributes = radius_attributes(session);
  EXPECT_EQ(find(attributes, "Acct-Input-Octets")->value, RadiusValue(std::uint32_t{17}));
  EXPECT_EQ(find(attributes, "Acct-Input-Gigawords")->value, RadiusValue(std::uint32_t{5}));
  EXPECT_EQ(find(attributes, "Acct-Output-Octets")->value, RadiusValue(std::uint32_t{0xffffffffU}));
  EXPECT_EQ(find(attributes, "Acct-Output-Gigawords"), nullptr);
}

TEST(RadiusAttributes, NegativeOrHugeNumbersAreClamped) {
  auto session = typical_session();
  session.duration = -4;
  session.streams[0].post_dial_delay = -1.0;
  auto attributes = radius_attributes(session);
  EXPECT_EQ(find(attributes, "Acct-Session-Time")->value, RadiusValue(std::uint32_t{0}));
  EXPECT_EQ(find(attributes, "Acct-Delay-Time")->value, RadiusValue(std::uint32_t{0}));
  session.duration = std::int64_t{1} << 40;
  attributes = radius_attributes(session);
  EXPECT_EQ(find(attributes, "Acct-Session-Time")->value, RadiusValue(std::uint32_t{0xffffffffU}));
}

TEST(RadiusAttributes, LongStringsAreCutAt253BytesOnACharacterBoundary) {
  auto session = typical_session();
  session.caller_ua = std::string(200, 'a');
  session.callee_ua = std::string(51, 'b') + "\xc3\xa9" + "tail";  // é straddles byte 253
  const auto attributes = radius_attributes(session);
  const auto& agents = std::get<std::string>(find(attributes, "Sip-User-Agents")->value);
  EXPECT_EQ(agents, std::string(200, 'a') + "+" + std::string(51, 'b'));
  EXPECT_EQ(truncate_utf8(std::string(300, 'x')).size(), 253U);
  EXPECT_EQ(truncate_utf8("abc", 10), "abc");
  EXPECT_EQ(truncate_utf8("ab\xe2\x82\xac", 4), "ab");  // € is 3 bytes
}

TEST(RadiusAttributes, TextFormQuotesStrings) {
  const std::vector<RadiusAttribute> attributes{{"A", std::string("x \"y\"")},
                                                {"B", std::uint32_t{7}},
                                                {"C", make_address_v4("10.0.0.1")}};
  EXPECT_EQ(radius_attributes_text(attributes), "A=\"x \\\"y\\\"\" B=7 C=10.0.0.1");
}

TEST(RadiusBackendSettings, RelativePathsComeFromTheConfigDirWithBundledFallback) {
  test::TempDir dir;
  const auto config_dir = dir.path() / "etc";
  std::filesystem::create_directories(config_dir / "radius");
  std::ofstream(config_dir / "client.conf") << "acctserver 127.0.0.1\n";
  const auto bundled = dir.path() / "dictionary.mediaproxy";
  std::ofstream(bundled) << "ATTRIBUTE Media-Info 234 string\n";

  config::RadiusConfig radius;
  radius.config_file = "client.conf";
  radius.additional_dictionary = "radius/dictionary";
  auto settings = radius_backend_settings(radius, config_dir, bundled);
  ASSERT_TRUE(settings.has_value()) << settings.error().message;
  EXPECT_EQ(settings.value().client.config_file, config_dir / "client.conf");
  EXPECT_EQ(settings.value().client.additional_dictionary, bundled);

  std::ofstream(config_dir / "radius" / "dictionary") << "\n";
  settings = radius_backend_settings(radius, config_dir, bundled);
  ASSERT_TRUE(settings.has_value());
  EXPECT_EQ(settings.value().client.additional_dictionary, config_dir / "radius" / "dictionary");

  radius.additional_dictionary = "radius/none";
  settings = radius_backend_settings(radius, config_dir, dir.path() / "missing");
  ASSERT_FALSE(settings.has_value());
  EXPECT_NE(settings.error().message.find("radius/none"), std::string::npos);

  radius.config_file = "/nonexistent/client.conf";
  settings = radius_backend_settings(radius, config_dir, bundled);
  ASSERT_FALSE(settings.has_value());
  EXPECT_NE(settings.error().message.find("/nonexistent/client.conf"), std::string::npos);
}

TEST(RadiusClient, OpenReportsMissingDictionaryAttributes) {
  test::TempDir dir;
  // radcli's own dictionary lacks MediaProxy's and the SIP attributes.
  std::ofstream(dir.path() / "servers") << "127.0.0.1 secret\n";
  std::ofstream(dir.path() / "client.conf")
      << "authserver 127.0.0.1\nacctserver 127.0.0.1:1\nservers " << (dir.path() / "servers").string()
      << "\ndictionary /etc/radcli/dictionary\nradius_timeout 1\nradius_retries 1\nbindaddr *\n";
  auto client = RadiusClient::open({dir.path() / "client.conf", {}});
  ASSERT_FALSE(client.has_value());
  EXPECT_NE(client.error().message.find("Sip-From-Tag"), std::string::npos)
      << client.error().message;
  EXPECT_NE(client.error().message.find("Media-Codecs"), std::string::npos);

  std::ofstream(dir.path() / "extra") << "$INCLUDE /etc/radcli/dictionary.sip\n";
  client = RadiusClient::open({dir.path() / "client.conf", dir.path() / "extra"});
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().message.find("Sip-From-Tag"), std::string::npos)
      << client.error().message;
  EXPECT_NE(client.error().message.find("Media-Codecs"), std::string::npos);

  // The shipped dictionary completes them; the SIP one comes from the main dictionary.
  std::ofstream(dir.path() / "main")
      << "$INCLUDE /etc/radcli/dictionary\n$INCLUDE /etc/radcli/dictionary.sip\n";
  std::ofstream(dir.path() / "client2.conf")
      << "authserver 127.0.0.1\nacctserver 127.0.0.1:1\nservers " << (dir.path() / "servers").string()
      << "\ndictionary " << (dir.path() / "main").string()
      << "\nradius_timeout 1\nradius_retries 1\nbindaddr *\n";
  client = RadiusClient::open(
      {dir.path() / "client2.conf",
       test::source_path("dispatcher/accounting/radius/dictionary.mediaproxy")});
  ASSERT_TRUE(client.has_value()) << client.error().message;
  EXPECT_EQ(client.value()->server(), "127.0.0.1:1");

  client = RadiusClient::open({dir.path() / "nonexistent.conf", {}});
  ASSERT_FALSE(client.has_value());
  EXPECT_NE(client.error().message.find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace mpx::dispatcher
