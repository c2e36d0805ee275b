// The RADIUS accounting back-end against a throw-away FreeRADIUS (Debian's freeradius 3.2) that
// the test starts in the foreground (`freeradius -X -d <temp raddb>`) with a minimal raddb: an acct
// listener on 127.0.0.1 and a free port, a client 127.0.0.1 with a secret, the SIP tag attributes
// plus mpx's shipped dictionary.mediaproxy, and the detail module writing every request to a file
// in the temp dir. The server is stopped by its PID and the directory removed when the test ends.
// Checks: a record sent while the server is not yet up waits and is retried; then both sessions'
// requests carry every attribute of MediaProxy's mapping with the right value.
#include "dispatcher/accounting/radius_backend.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "tests/integration/accounting/freeradius_server.hpp"
#include "tests/support/privileged.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher {
namespace {

using namespace std::chrono_literals;

using accounting_test::detail_records;
using accounting_test::free_udp_port;
using accounting_test::read_file;
using accounting_test::write_client;
using accounting_test::write_raddb;

protocol::StreamStatistics stream(std::string media, std::string codec, std::int64_t start,
                                  std::int64_t end, std::uint64_t caller_bytes,
                                  std::uint64_t callee_bytes, std::optional<double> pdd) {
  protocol::StreamStatistics s;
  s.media_type = std::move(media);
  s.status = "closed";
  s.caller_codec = std::move(codec);
  s.start_time = start;
  s.end_time = end;
  s.caller_bytes = caller_bytes;
  s.callee_bytes = callee_bytes;
  s.post_dial_delay = pdd;
  s.caller_local = "192.0.2.10:40000";
  s.callee_local = "192.0.2.10:40002";
  return s;
}

protocol::SessionStatistics first_session() {
  protocol::SessionStatistics session;
  session.call_id = "call-one@example.com";
  session.from_tag = "ft1";
  session.to_tag = "tt1";
  session.start_time = 1700000000.0;
  session.duration = 61;
  session.caller_ua = "Blink";
  session.callee_ua = "Linphone";
  session.streams.push_back(stream("audio", "opus", 0, 61, 1000, 2000, 1.6));
  session.streams.push_back(stream("video", "H264", 3, 61, 50000, 60000, std::nullopt));
  session.dispatcher = protocol::DispatcherAnnotations{std::string("d1"), true, std::nullopt};
  return session;
}

protocol::SessionStatistics second_session() {
  protocol::SessionStatistics session;
  session.call_id = "call-two@example.com";
  session.from_tag = "ft2";
  session.to_tag = std::nullopt;
  session.start_time = 1700000100.0;
  session.duration = 7;
  session.username = "alice@example.com";
  session.streams.push_back(stream("audio", "PCMA", 0, 7, 5, 6, std::nullopt));
  session.streams[0].caller_local = "198.51.100.7:40010";
  session.dispatcher = protocol::DispatcherAnnotations{std::nullopt, false, true};
  return session;
}

TEST(RadiusFreeradius, EveryAttributeArrivesAndAnOutageIsRetried) {
  MPX_REQUIRE(test::missing_root());
  MPX_REQUIRE(test::missing_tool("freeradius"));
  test::TempDir dir("mpx-radius");
  const auto port = free_udp_port();
  ASSERT_NE(port, 0);
  write_raddb(dir, port);
  auto settings = write_client(dir, port);
  auto client = RadiusClient::open(settings.client);
  ASSERT_TRUE(client.has_value()) << client.error().message;
  RadiusAccountingBackend backend(std::move(client).value(), settings);

  // No server yet: the record must wait at the front of the queue.
  backend.record(first_session());
  EXPECT_FALSE(backend.wait_until_idle(2500ms));
  EXPECT_FALSE(backend.last_error().empty());
  EXPECT_EQ(backend.counters().sent, 0U);

  const auto log = (dir.path() / "freeradius.log").string();
  test::Child server({"freeradius", "-X", "-d", (dir.path() / "raddb").string()}, log);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (server.running() && read_file(log).find("Ready to process requests") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_NE(read_file(log).find("Ready to process requests"), std::string::npos) << server.log();

  backend.record(second_session());
  ASSERT_TRUE(backend.wait_until_idle(30s)) << backend.last_error() << "\n" << server.log();
  EXPECT_EQ(backend.counters().sent, 2U);
  EXPECT_EQ(backend.counters().dropped, 0U);
  EXPECT_EQ(backend.last_error(), "");

  const auto records = detail_records(read_file(dir.path() / "detail"));
  ASSERT_EQ(records.size(), 2U) << read_file(dir.path() / "detail");
  auto expect = [](const std::map<std::string, std::string>& record, const std::string& name,
                   const std::string& value) {
    const auto found = record.find(name);
    ASSERT_NE(found, record.end()) << name << " missing";
    EXPECT_EQ(found->second, value) << name;
  };
  const auto& one = records[0];
  EXPECT_TRUE(one.at("Acct-Status-Type") == "Interim-Update" || one.at("Acct-Status-Type") == "Update")
      << one.at("Acct-Status-Type");
  expect(one, "User-Name", "mediaproxy@default");
  expect(one, "Acct-Session-Id", "call-one@example.com");
  expect(one, "Acct-Session-Time", "61");
  expect(one, "Acct-Input-Octets", "51000");
  expect(one, "Acct-Output-Octets", "62000");
  expect(one, "Sip-From-Tag", "ft1");
  expect(one, "Sip-To-Tag", "tt1");
  expect(one, "NAS-IP-Address", "192.0.2.10");
  expect(one, "Sip-User-Agents", "Blink+Linphone");
  expect(one, "Sip-Applications", "audio, video");
  expect(one, "Media-Codecs", "opus, H264");
  expect(one, "Media-Info", "timeout");
  expect(one, "Acct-Delay-Time", "1");
  EXPECT_EQ(one.count("NAS-Port"), 0U);

  const auto& two = records[1];
  EXPECT_TRUE(two.at("Acct-Status-Type") == "Interim-Update" || two.at("Acct-Status-Type") == "Update");
  expect(two, "User-Name", "alice@example.com");
  expect(two, "Acct-Session-Id", "call-two@example.com");
  expect(two, "Acct-Session-Time", "7");
  expect(two, "Acct-Input-Octets", "5");
  expect(two, "Acct-Output-Octets", "6");
  expect(two, "Sip-From-Tag", "ft2");
  EXPECT_EQ(two.count("Sip-To-Tag"), 0U);  // no to_tag: the empty string is not sent
  expect(two, "NAS-IP-Address", "198.51.100.7");
  expect(two, "Sip-User-Agents", "Unknown+Unknown");
  expect(two, "Sip-Applications", "audio");
  expect(two, "Media-Codecs", "PCMA");
  expect(two, "Media-Info", "ICE session");
  // No post-dial delay: radcli adds Acct-Delay-Time 0 itself.
  expect(two, "Acct-Delay-Time", "0");

  server.stop();
}

}  // namespace
}  // namespace mpx::dispatcher
