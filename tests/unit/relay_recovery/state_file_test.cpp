// The relay's state file: a full document survives write and read unchanged; truncated,
// garbage, wrong-format, inconsistent and oversized files are clear errors, never a crash; a
// missing file is "no state"; the write is atomic (no temporary left, previous content replaced).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "relay/recovery/state_file.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::relay::recovery {
namespace {

using boost::asio::ip::make_address_v4;
using session::Endpoint;

Endpoint ep(const char* ip, std::uint16_t port) { return {make_address_v4(ip), port}; }
datapath::Endpoint udp(const char* ip, std::uint16_t port) { return {make_address_v4(ip), port}; }

session::TimePoint at(std::int64_t ns) {
  return session::TimePoint(
      std::chrono::duration_cast<session::Clock::duration>(std::chrono::nanoseconds(ns)));
}

RelayState sample_state() {
  RecoveredSession recovered;
  auto& s = recovered.session;
  s.key = {"call-1@10.1.0.10", "a73kszlfl"};
  s.origin = "10.3.0.30:25060";
  s.from_uri = "sip:alice@example.com";
  s.to_uri = "sip:bob@example.com";
  s.to_tag = "8d7f2a";
  s.caller_ua = "Blink 5.1";
  s.callee_ua = std::nullopt;
  s.signaling.signaling_ip = make_address_v4("10.1.0.10");
  s.signaling.username = "alice";
  s.caller_signaling_ip = make_address_v4("10.1.0.10");
  s.caller_side_ip = make_address_v4("203.0.113.1");
  s.callee_side_ip = make_address_v4("203.0.113.2");
  s.start_time = at(1'700'000'000'123'456'789);
  s.current = session::Offer{{1, 0}, {7}};
  session::Stream stream;
  stream.id = 7;
  stream.media_type = "audio";
  stream.caller_local = ep("203.0.113.1", 40000);
  stream.callee_local = ep("203.0.113.2", 40002);
  stream.has_ports = true;
  stream.caller.sdp = ep("10.1.0.10", 5000);
  stream.caller.codec = "G711a";
  stream.callee.sdp = ep("10.2.0.20", 6000);
  stream.callee.on_hold = true;
  stream.callee.ice = true;
  stream.status = session::kOnHold;
  stream.create_time = at(1'700'000'000'000'000'001);
  stream.start_time = at(1'700'000'000'500'000'000);
  stream.first_media_time = at(1'700'000'000'600'000'000);
  stream.final_traffic.caller_bytes = 1ULL << 40;  // beyond 32 bits
  stream.final_traffic.callee_remote = ep("10.2.0.20", 6000);
  s.streams.push_back(stream);
  engine::StreamRecovery media;
  media.id = 7;
  media.rtp.installed = datapath::Flow{udp("10.1.0.10", 5000), udp("203.0.113.1", 40000),
                                       udp("203.0.113.2", 40002), udp("10.2.0.20", 6000)};
  media.rtp.gone.caller_packets = 3;
  media.rtp.gone.callee_bytes = 4;
  media.rtp.caller_packets = 11;
  media.rtp.caller_bytes = 2200;
  media.rtp.callee_packets = 12;
  media.rtp.callee_bytes = 2400;
  media.rtp.caller_locked = ep("10.1.0.10", 5000);
  media.rtp.callee_locked = ep("10.2.0.20", 6000);
  media.rtcp.caller_locked = ep("10.1.0.10", 5001);
  recovered.media.push_back(media);
  return RelayState{"xdp", {recovered}};
}

TEST(StateFileTest, RoundTripKeepsEveryField) {
  const RelayState state = sample_state();
  const std::string text = to_json(state);
  auto parsed = parse_state(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(to_json(parsed.value()), text);
  const auto& back = parsed.value();
  EXPECT_EQ(back.datapath, "xdp");
  ASSERT_EQ(back.sessions.size(), 1U);
  const auto& s = back.sessions[0].session;
  EXPECT_EQ(s.key, state.sessions[0].session.key);
  EXPECT_EQ(s.origin, "10.3.0.30:25060");
  EXPECT_EQ(s.to_tag, std::optional<std::string>("8d7f2a"));
  EXPECT_FALSE(s.callee_ua.has_value());
  EXPECT_EQ(s.signaling, state.sessions[0].session.signaling);
  EXPECT_EQ(s.start_time, state.sessions[0].session.start_time);  // to the nanosecond
  ASSERT_TRUE(s.current.has_value());
  EXPECT_EQ(s.current->cseq.caller, 1U);
  EXPECT_EQ(s.current->streams, std::vector<session::StreamId>{7});
  EXPECT_FALSE(s.previous.has_value());
  ASSERT_EQ(s.streams.size(), 1U);
  EXPECT_EQ(s.streams[0].callee_local, ep("203.0.113.2", 40002));
  EXPECT_EQ(s.streams[0].final_traffic, state.sessions[0].session.streams[0].final_traffic);
  EXPECT_TRUE(s.streams[0].callee.ice);
  EXPECT_EQ(s.streams[0].status, "on hold");
  ASSERT_EQ(back.sessions[0].media.size(), 1U);
  EXPECT_EQ(back.sessions[0].media[0], state.sessions[0].media[0]);
}

TEST(StateFileTest, WriteReplacesAtomicallyAndReadsBack) {
  test::TempDir dir("mpx-state");
  const auto path = dir.path() / "relay-state.json";
  auto missing = read_state_file(path);
  ASSERT_TRUE(missing.has_value()) << missing.error().message;
  EXPECT_FALSE(missing.value().has_value());

  ASSERT_TRUE(write_state_file(path, RelayState{"tc", {}}).has_value());
  RelayState state = sample_state();
  ASSERT_TRUE(write_state_file(path, state).has_value());
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  auto read = read_state_file(path);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  ASSERT_TRUE(read.value().has_value());
  EXPECT_EQ(to_json(*read.value()), to_json(state));

  ASSERT_TRUE(remove_state_file(path).has_value());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(remove_state_file(path).has_value());  // absent is fine
}

TEST(StateFileTest, WriteIntoAMissingDirectoryIsAnError) {
  test::TempDir dir("mpx-state");
  const auto written = write_state_file(dir.path() / "nowhere" / "state.json", RelayState{});
  ASSERT_FALSE(written.has_value());
  EXPECT_NE(written.error().message.find("cannot create"), std::string::npos);
}

TEST(StateFileTest, EveryTruncationIsAnError) {
  const std::string text = to_json(sample_state());
  for (std::size_t length = 0; length < text.size(); ++length) {
    auto parsed = parse_state(std::string_view(text).substr(0, length));
    EXPECT_FALSE(parsed.has_value()) << "a prefix of " << length << " bytes parsed";
  }
}

TEST(StateFileTest, GarbageAndForeignDocumentsAreErrors) {
  for (const std::string text :
       {"", "\x00\xff\xfe garbage", "[]", "{}", "null", R"({"format":"other","version":1})",
        R"({"format":"mpx-relay-state","version":2,"datapath":"xdp","sessions":[]})",
        R"({"format":"mpx-relay-state","version":1,"datapath":"xdp","sessions":{}})",
        R"({"format":"mpx-relay-state","version":1,"datapath":"xdp",)"
        R"("sessions":[{"call_id":1}]})"}) {
    auto parsed = parse_state(text);
    EXPECT_FALSE(parsed.has_value()) << text;
  }
  auto wrong_version = parse_state(
      R"({"format":"mpx-relay-state","version":2,"datapath":"xdp","sessions":[]})");
  ASSERT_FALSE(wrong_version.has_value());
  EXPECT_NE(wrong_version.error().message.find("version 2"), std::string::npos);
}

TEST(StateFileTest, BadValuesInsideAValidDocumentAreErrors) {
  const std::string good = to_json(sample_state());
  const auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const auto at_pos = text.find(from);
    EXPECT_NE(at_pos, std::string::npos) << from;
    return text.replace(at_pos, from.size(), to);
  };
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"\"203.0.113.1:40000\"", "\"203.0.113.1\""},
        {"\"203.0.113.1:40000\"", "\"203.0.113.1:70000\""},
        {"\"203.0.113.1:40000\"", "\"not-an-ip:40000\""},
        {"\"caller_side_ip\":\"203.0.113.1\"", "\"caller_side_ip\":\"::1\""},
        {"\"streams\":[7]", "\"streams\":[8]"},
        {"\"caller_packets\":11", "\"caller_packets\":-11"},
        {"\"media_type\":\"audio\"", "\"media_type\":5"}}) {
    auto parsed = parse_state(replaced(from, to));
    EXPECT_FALSE(parsed.has_value()) << from << " -> " << to;
  }
}

TEST(StateFileTest, OversizedAndCorruptFilesAreErrorsNamingTheFile) {
  test::TempDir dir("mpx-state");
  const auto big = dir.write("big.json", std::string(4096, ' ') + to_json(sample_state()));
  auto oversized = read_state_file(big, 1024);
  ASSERT_FALSE(oversized.has_value());
  EXPECT_NE(oversized.error().message.find("more than the 1024"), std::string::npos)
      << oversized.error().message;

  const std::string text = to_json(sample_state());
  const auto truncated = dir.write("cut.json", text.substr(0, text.size() / 2));
  auto cut = read_state_file(truncated);
  ASSERT_FALSE(cut.has_value());
  EXPECT_NE(cut.error().message.find("cut.json"), std::string::npos);
  EXPECT_NE(cut.error().message.find("truncated or corrupt"), std::string::npos);
}

}  // namespace
}  // namespace mpx::relay::recovery
