// The `media` header grammar: the module's real values, every field's error, limits, format.
#include "common/protocol/media.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mpx::protocol {
namespace {

using boost::asio::ip::make_address_v4;

std::string error_of(std::string_view text) {
  auto streams = parse_media(text);
  EXPECT_FALSE(streams.has_value()) << text;
  return streams.has_value() ? std::string{} : streams.error().message;
}

TEST(ParseMedia, SpecExample) {
  const std::string text =
      "audio:192.168.1.10:50000:sendrecv:ice=no,video:192.168.1.10:50002:sendrecv:ice=no";
  auto streams = parse_media(text);
  ASSERT_TRUE(streams.has_value()) << streams.error().message;
  ASSERT_EQ(streams.value().size(), 2U);
  const MediaStream& audio = streams.value()[0];
  EXPECT_EQ(audio.type, "audio");
  EXPECT_EQ(audio.ip, make_address_v4("192.168.1.10"));
  EXPECT_EQ(audio.port, 50000);
  EXPECT_EQ(audio.direction, Direction::sendrecv);
  EXPECT_EQ(audio.params, (std::vector<std::pair<std::string, std::string>>{{"ice", "no"}}));
  EXPECT_FALSE(audio.ice());
  EXPECT_EQ(streams.value()[1].type, "video");
  EXPECT_EQ(streams.value()[1].port, 50002);
  EXPECT_EQ(format_media(streams.value()).value(), text);
}

TEST(ParseMedia, MultistreamCaptureValue) {
  auto streams = parse_media(
      "audio:127.0.0.1:6000:sendrecv:ice=no,video:127.0.0.1:6002:sendonly:ice=no,"
      "image:127.0.0.1:0:sendrecv:ice=no");
  ASSERT_TRUE(streams.has_value());
  ASSERT_EQ(streams.value().size(), 3U);
  EXPECT_EQ(streams.value()[1].direction, Direction::sendonly);
  EXPECT_EQ(streams.value()[2].type, "image");
  EXPECT_EQ(streams.value()[2].port, 0);
}

TEST(ParseMedia, DirectionsHoldAddressAndPortRange) {
  auto streams = parse_media(
      "audio:0.0.0.0:65535:inactive:ice=yes,audio:255.255.255.255:1:recvonly,"
      "application:1.2.3.4:00080:sendonly:ice=no:x=a=b:y=");
  ASSERT_TRUE(streams.has_value()) << streams.error().message;
  const auto& s = streams.value();
  EXPECT_EQ(s[0].ip, make_address_v4("0.0.0.0"));
  EXPECT_EQ(s[0].port, 65535);
  EXPECT_EQ(s[0].direction, Direction::inactive);
  EXPECT_TRUE(s[0].ice());
  EXPECT_EQ(s[1].direction, Direction::recvonly);
  EXPECT_TRUE(s[1].params.empty());
  EXPECT_FALSE(s[1].ice());
  EXPECT_EQ(s[2].port, 80);
  EXPECT_EQ(s[2].params, (std::vector<std::pair<std::string, std::string>>{
                             {"ice", "no"}, {"x", "a=b"}, {"y", ""}}));
}

TEST(ParseMedia, LastIceParameterWins) {
  auto streams = parse_media("audio:1.2.3.4:5:sendrecv:ice=no:ice=yes");
  ASSERT_TRUE(streams.has_value());
  EXPECT_TRUE(streams.value()[0].ice());
  EXPECT_FALSE(parse_media("audio:1.2.3.4:5:sendrecv:ice=YES").value()[0].ice());
}

TEST(ParseMedia, ErrorsNameTheElementAndTheProblem) {
  EXPECT_EQ(error_of(""), "media header is empty");
  EXPECT_NE(error_of("audio:1.2.3.4:5:sendrecv,").find("media element 2 is empty"),
            std::string::npos);
  EXPECT_NE(error_of(":1.2.3.4:5:sendrecv").find("element 1: empty media type"),
            std::string::npos);
  EXPECT_NE(error_of("audio:1.2.3.4:5").find("fewer than 4 fields"), std::string::npos);
  const std::string ip_error = error_of("audio:1.2.3.4:5:sendrecv,audio:1.2.3:5:sendrecv");
  EXPECT_NE(ip_error.find("element 2"), std::string::npos) << ip_error;
  EXPECT_NE(ip_error.find("\"1.2.3\" is not a dotted-quad IPv4"), std::string::npos) << ip_error;
  EXPECT_NE(error_of("audio:1.2.3.4:65536:sendrecv").find("port \"65536\""), std::string::npos);
  EXPECT_NE(error_of("audio:1.2.3.4:5:SENDRECV").find("unknown direction \"SENDRECV\""),
            std::string::npos);
  EXPECT_NE(error_of("audio:1.2.3.4:5:sendrecv:ice").find("parameter \"ice\" is not key=value"),
            std::string::npos);
  EXPECT_NE(error_of("audio:1.2.3.4:5:sendrecv:=no").find("empty key"), std::string::npos);
  EXPECT_NE(error_of("audio:1.2.3.4:5:send\trecv").find("control byte"), std::string::npos);
}

TEST(ParseMedia, OnlyStrictIpv4IsAccepted) {
  for (const std::string& ip :
       std::vector<std::string>{"256.1.1.1", "01.2.3.4", "1.2.3.4.5", "1..2.3", "example.com", "",
                                " 1.2.3.4", "1.2.3.4 ", "0x7f.0.0.1", "127.1"}) {
    EXPECT_FALSE(parse_media("audio:" + ip + ":5000:sendrecv").has_value()) << ip;
  }
  EXPECT_FALSE(parse_media("audio:::1:5000:sendrecv").has_value());  // IPv6 cannot be expressed
}

TEST(ParseMedia, PortMustBeADecimalNumber) {
  for (const std::string& port :
       std::vector<std::string>{"", "-1", "+1", "1e3", "0x10", "99999", "5 "}) {
    EXPECT_FALSE(parse_media("audio:1.2.3.4:" + port + ":sendrecv").has_value()) << port;
  }
}

TEST(ParseMedia, AtMostThirtyTwoStreams) {
  std::string text;
  for (int i = 0; i < 32; ++i) {
    text += (i ? "," : "") + std::string("audio:1.2.3.4:") + std::to_string(2 * i) + ":sendrecv";
  }
  auto streams = parse_media(text);
  ASSERT_TRUE(streams.has_value());
  EXPECT_EQ(streams.value().size(), 32U);
  const std::string error = error_of(text + ",audio:1.2.3.4:9:sendrecv");
  EXPECT_NE(error.find("33 elements"), std::string::npos) << error;
  EXPECT_NE(error.find("MAX_STREAMS"), std::string::npos) << error;
}

TEST(FormatMedia, InverseOfParse) {
  std::vector<MediaStream> streams{
      {"audio", make_address_v4("203.0.113.5"), 40000, Direction::sendrecv, {{"ice", "yes"}}},
      {"image", make_address_v4("0.0.0.0"), 0, Direction::inactive, {}},
  };
  auto text = format_media(streams);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text.value(), "audio:203.0.113.5:40000:sendrecv:ice=yes,image:0.0.0.0:0:inactive");
  EXPECT_EQ(parse_media(text.value()).value(), streams);
}

TEST(FormatMedia, RefusesWhatParseWouldNotRead) {
  const auto ip = make_address_v4("1.2.3.4");
  EXPECT_FALSE(format_media({}).has_value());
  EXPECT_FALSE(format_media(std::vector<MediaStream>{{"", ip, 1, Direction::sendrecv, {}}})
                   .has_value());
  EXPECT_FALSE(format_media(std::vector<MediaStream>{{"a:b", ip, 1, Direction::sendrecv, {}}})
                   .has_value());
  EXPECT_FALSE(format_media(std::vector<MediaStream>{
                                {"audio", ip, 1, Direction::sendrecv, {{"k=", "v"}}}})
                   .has_value());
  EXPECT_FALSE(format_media(std::vector<MediaStream>{
                                {"audio", ip, 1, Direction::sendrecv, {{"k", "a,b"}}}})
                   .has_value());
  EXPECT_FALSE(format_media(std::vector<MediaStream>{
                                {"audio", ip, 1, Direction::sendrecv, {{"", "v"}}}})
                   .has_value());
  EXPECT_FALSE(
      format_media(std::vector<MediaStream>(33, {"audio", ip, 1, Direction::sendrecv, {}}))
          .has_value());
}

}  // namespace
}  // namespace mpx::protocol
