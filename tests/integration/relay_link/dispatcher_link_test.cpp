// DispatcherLink against a scripted dispatcher over real TLS on 127.0.0.1 (test PKI): requests
// answered in order with the handler's payload, errors for unknown, malformed and failing
// requests, keepalive and the drop after unanswered pings, the reconnect policy (1 s after a
// long-lived connection, reconnect_delay after a short one or a certificate problem), expired
// delivery and queueing, and a stop() that leaves the io_context with nothing to do.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "common/tls/context.hpp"
#include "relay/link/dispatcher_link.hpp"
#include "tests/integration/relay_link/fake_dispatcher.hpp"
#include "tests/integration/relay_link/test_handler.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"

namespace mpx::relay::link {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FakeDispatcher;
using testing::run_for;
using testing::run_until;
using testing::ScriptedHandler;
using Clock = std::chrono::steady_clock;

LinkOptions fast_options() {
  LinkOptions options;
  options.connect_timeout = 3s;
  options.reconnect.reconnect_delay = 5s;
  options.reconnect.quick_retry = 1s;
  options.reconnect.short_lived = 5s;
  options.keepalive_interval = 0s;  // no pings unless a test wants them
  options.verify_interval = 300s;
  return options;
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

class RelayLinkConnection : public ::testing::Test {
 protected:
  std::shared_ptr<DispatcherLink> make_link(LinkOptions options) {
    link = std::make_shared<DispatcherLink>(io.get_executor(), relay_context, id(), "",
                                            std::move(options), handler);
    return link;
  }
  DispatcherId id() const {
    return DispatcherId{asio::ip::make_address_v4("127.0.0.1"), server->port()};
  }
  bool wait_connected(std::chrono::milliseconds timeout = 5000ms) {
    return run_until(
        io, [&] { return link->connected() && server->current() != nullptr; }, timeout);
  }
  // Waits until the current server connection has received `count` lines.
  bool wait_lines(std::size_t count, std::chrono::milliseconds timeout = 5000ms) {
    return run_until(
        io, [&] { return server->current() && server->current()->lines.size() >= count; }, timeout);
  }

  void TearDown() override {
    if (link) {
      link->stop();
    }
    server->stop();
    run_for(io, 50ms);
  }

  asio::io_context io;
  asio::ssl::context relay_context = testing::relay_client_context();
  asio::ssl::context server_context = testing::dispatcher_server_context();
  std::unique_ptr<FakeDispatcher> server = std::make_unique<FakeDispatcher>(io, server_context);
  ScriptedHandler handler;
  std::shared_ptr<DispatcherLink> link;
};

TEST_F(RelayLinkConnection, AnswersSummaryWithTheHandlersPayload) {
  auto options = fast_options();
  options.passport = tls::Passport::parse("OU:dispatchers, CN:dispatcher*").value();
  make_link(options)->start();
  ASSERT_TRUE(wait_connected());
  server->send("summary 0\r\n\r\n");
  ASSERT_TRUE(wait_lines(1));
  EXPECT_EQ(server->current()->lines[0], R"(0 {"ip": "203.0.113.1", "status": "active"})");
  ASSERT_EQ(handler.seen.size(), 1u);
  EXPECT_EQ(handler.seen[0].command, "summary");
  EXPECT_EQ(handler.senders[0], id());
}

TEST_F(RelayLinkConnection, AnswersSeveralRequestsOfOneSegmentInOrder) {
  handler.delays["summary"] = 200ms;  // the first one is the slowest: order must still hold
  make_link(fast_options())->start();
  ASSERT_TRUE(wait_connected());
  server->send(
      "summary 0\r\n\r\n"
      "update 1\r\ncall_id: c1\r\nfrom_tag: f1\r\n\r\n"
      "sessions 2\r\n\r\n");
  ASSERT_TRUE(wait_lines(3));
  const auto& lines = server->current()->lines;
  EXPECT_EQ(lines[0], R"(0 {"ip": "203.0.113.1", "status": "active"})");
  EXPECT_EQ(lines[1], "1 203.0.113.1 40002");
  EXPECT_EQ(lines[2], "2 []");
  ASSERT_EQ(handler.seen.size(), 3u);
  EXPECT_EQ(handler.seen[1].find("call_id"), "c1");
}

TEST_F(RelayLinkConnection, UnknownMalformedAndFailingRequestsAreAnsweredError) {
  handler.throw_on = "remove";
  handler.payloads["sessions"] = "bad\r\npayload";
  make_link(fast_options())->start();
  ASSERT_TRUE(wait_connected());
  server->send(
      "frobnicate 3\r\n\r\n"
      "update 4 extra\r\ncall_id: c1\r\n\r\n"
      "remove 5\r\ncall_id: c1\r\nfrom_tag: f1\r\n\r\n"
      "sessions 6\r\n\r\n"
      "summary 7\r\n\r\n");
  ASSERT_TRUE(wait_lines(5));
  const auto& lines = server->current()->lines;
  EXPECT_EQ(lines[0], "3 error");          // unknown command: the handler is not asked
  EXPECT_EQ(lines[1], "4 error");          // command line of three tokens
  EXPECT_EQ(lines[2], "5 error");          // the handler threw
  EXPECT_EQ(lines[3], "6 error");          // the handler's payload holds CR/LF
  EXPECT_EQ(lines[4].substr(0, 2), "7 ");  // the link is still usable
  ASSERT_EQ(handler.seen.size(), 3u);
  EXPECT_EQ(handler.seen[0].command, "remove");
  EXPECT_TRUE(link->connected());
}

TEST_F(RelayLinkConnection, PingsOnTheIntervalAndStaysUpWhileAnswered) {
  auto options = fast_options();
  options.keepalive_interval = 200ms;
  make_link(options)->start();
  ASSERT_TRUE(wait_connected());
  const auto pings = [&] {
    std::size_t count = 0;
    for (const auto& line : server->current()->lines) {
      count += line == "ping" ? 1u : 0u;
    }
    return count;
  };
  const auto connected_at = Clock::now();
  ASSERT_TRUE(run_until(
      io, [&] { return pings() >= 6; }, 5000ms));
  // Six pings at 200 ms intervals: not a flood, not late (generous bounds).
  EXPECT_GE(seconds_between(connected_at, Clock::now()), 1.0);
  EXPECT_LT(seconds_between(connected_at, Clock::now()), 4.0);
  EXPECT_EQ(server->connections().size(), 1u);
  EXPECT_TRUE(link->connected());
  EXPECT_EQ(link->connections(), 1u);
}

TEST_F(RelayLinkConnection, DropsAfterThreeUnansweredPingsAndReconnects) {
  server->auto_pong = false;
  auto options = fast_options();
  options.keepalive_interval = 300ms;
  options.reconnect.short_lived = 500ms;  // the dropped connection lived ~1.2 s: quick retry
  options.reconnect.quick_retry = 200ms;
  make_link(options)->start();
  ASSERT_TRUE(wait_connected());
  const auto first = server->current();
  ASSERT_TRUE(run_until(
      io, [&] { return server->handshakes() >= 2; }, 5000ms));
  // Dropped by the relay when the 4th ping was due with 3 outstanding.
  EXPECT_TRUE(first->closed);
  EXPECT_EQ(first->lines, (std::vector<std::string>{"ping", "ping", "ping"}));
  const double lived = seconds_between(first->accepted_at, first->closed_at);
  EXPECT_GE(lived, 1.0);
  EXPECT_LT(lived, 3.0);
  EXPECT_EQ(link->connections(), 2u);
}

TEST_F(RelayLinkConnection, RetriesAfterAboutOneSecondWhenALongLivedConnectionIsLost) {
  auto options = fast_options();
  options.reconnect.short_lived = 300ms;
  options.reconnect.reconnect_delay = 30s;
  make_link(options)->start();
  ASSERT_TRUE(wait_connected());
  run_for(io, 500ms);
  server->close_current();
  const auto closed_at = Clock::now();
  ASSERT_TRUE(run_until(
      io, [&] { return server->connections().size() >= 2; }, 8000ms));
  const double gap = seconds_between(closed_at, server->connections()[1]->accepted_at);
  EXPECT_GE(gap, 0.8);
  EXPECT_LT(gap, 5.0);
  EXPECT_TRUE(wait_connected());
}

TEST_F(RelayLinkConnection, UsesReconnectDelayWhenTheConnectionWasShortLived) {
  auto options = fast_options();
  options.reconnect.quick_retry = 100ms;
  options.reconnect.short_lived = 30s;
  options.reconnect.reconnect_delay = 2s;
  make_link(options)->start();
  ASSERT_TRUE(wait_connected());
  server->close_current();
  const auto closed_at = Clock::now();
  ASSERT_TRUE(run_until(
      io, [&] { return server->connections().size() >= 2; }, 8000ms));
  const double gap = seconds_between(closed_at, server->connections()[1]->accepted_at);
  EXPECT_GE(gap, 1.8);
  EXPECT_LT(gap, 6.0);
}

TEST_F(RelayLinkConnection, RetriesAfterReconnectDelayWhenNobodyListens) {
  const auto port = server->port();
  server->stop();
  server.reset();
  auto options = fast_options();
  options.reconnect.reconnect_delay = 1s;
  link = std::make_shared<DispatcherLink>(
      io.get_executor(), relay_context, DispatcherId{asio::ip::make_address_v4("127.0.0.1"), port},
      "", options, handler);
  link->start();
  run_for(io, 300ms);
  EXPECT_FALSE(link->connected());
  // Comes up once a dispatcher listens there again (within reconnect_delay + margin).
  boost::system::error_code error;
  asio::ip::tcp::acceptor probe(io);
  probe.open(asio::ip::tcp::v4());
  probe.set_option(asio::socket_base::reuse_address(true));
  probe.bind(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), error);
  if (error) {
    GTEST_SKIP() << "port " << port << " was taken meanwhile";
  }
  probe.listen();
  std::optional<asio::ip::tcp::socket> accepted;
  probe.async_accept([&](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (!ec) {
      accepted.emplace(std::move(socket));
    }
  });
  const auto listening_since = Clock::now();
  ASSERT_TRUE(run_until(
      io, [&] { return accepted.has_value(); }, 5000ms));
  EXPECT_LT(seconds_between(listening_since, Clock::now()), 2.5);
  link->stop();
  server = std::make_unique<FakeDispatcher>(io, server_context);  // for TearDown
}

class RelayLinkRefused : public RelayLinkConnection {
 protected:
  void expect_refused_and_retried(LinkOptions options) {
    options.reconnect.reconnect_delay = 1500ms;
    options.reconnect.quick_retry = 100ms;
    options.reconnect.short_lived = 0s;  // would allow a quick retry if it were "lost"
    make_link(options)->start();
    ASSERT_TRUE(run_until(
        io, [&] { return server->connections().size() >= 2; }, 8000ms));
    EXPECT_FALSE(link->connected());
    EXPECT_EQ(link->connections(), 0u);
    const double gap = seconds_between(server->connections()[0]->accepted_at,
                                       server->connections()[1]->accepted_at);
    EXPECT_GE(gap, 1.3);
    EXPECT_LT(gap, 5.0);
    // The relay closed the connection of the refused attempt.
    ASSERT_TRUE(run_until(
        io, [&] { return server->connections()[0]->closed; }, 3000ms));
  }
};

TEST_F(RelayLinkRefused, CertificateFromTheOtherCaIsRefused) {
  server->stop();
  server_context = testing::plain_server_context("other");
  server = std::make_unique<FakeDispatcher>(io, server_context);
  expect_refused_and_retried(fast_options());
}

TEST_F(RelayLinkRefused, DispatcherFailingThePassportIsRefused) {
  auto options = fast_options();
  options.passport = tls::Passport::parse("CN:dispatcher2.mpx.test").value();
  expect_refused_and_retried(options);
  // The TLS handshake itself passed: only the passport refused it.
  EXPECT_TRUE(server->connections()[0]->handshake_ok);
}

TEST_F(RelayLinkConnection, ExpiredReachesTheDispatcher) {
  make_link(fast_options())->start();
  ASSERT_TRUE(wait_connected());
  EXPECT_TRUE(link->send_expired(R"({"call_id": "c1", "streams": []})"));
  ASSERT_TRUE(wait_lines(1));
  EXPECT_EQ(server->current()->lines[0], R"(expired {"call_id": "c1", "streams": []})");
  EXPECT_FALSE(link->send_expired("{\"bad\r\n\": 1}"));
}

TEST_F(RelayLinkConnection, ExpiredWhileDisconnectedIsQueuedAndFlushedFirstOnReconnect) {
  auto options = fast_options();
  options.reconnect.short_lived = 0s;
  options.reconnect.quick_retry = 1s;
  options.max_queued_expired = 2;
  make_link(options)->start();
  ASSERT_TRUE(wait_connected());
  server->close_current();
  ASSERT_TRUE(run_until(
      io, [&] { return !link->connected(); }, 3000ms));
  EXPECT_TRUE(link->send_expired(R"({"call_id": "a"})"));
  EXPECT_TRUE(link->send_expired(R"({"call_id": "b"})"));
  EXPECT_TRUE(link->send_expired(R"({"call_id": "c"})"));  // the oldest ("a") is dropped
  EXPECT_EQ(link->queued_expired(), 2u);
  ASSERT_TRUE(run_until(
      io, [&] { return server->handshakes() >= 2; }, 5000ms));
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(server->current()->lines, (std::vector<std::string>{R"(expired {"call_id": "b"})",
                                                                R"(expired {"call_id": "c"})"}));
  EXPECT_EQ(link->queued_expired(), 0u);
  link->stop();
  EXPECT_FALSE(link->send_expired(R"({"call_id": "d"})"));
}

TEST_F(RelayLinkConnection, DropsTheConnectionOnALineTooLong) {
  auto options = fast_options();
  options.reconnect.reconnect_delay = 30s;
  make_link(options)->start();
  ASSERT_TRUE(wait_connected());
  server->send("update 1\r\ncall_id: " + std::string(20000, 'x') + "\r\n\r\n");
  ASSERT_TRUE(run_until(
      io, [&] { return server->current()->closed; }, 5000ms));
  EXPECT_FALSE(link->connected());
  EXPECT_TRUE(handler.seen.empty());
}

TEST_F(RelayLinkConnection, FailedReVerificationDropsAndRetriesAfterReconnectDelay) {
  // The relay's certs_path is a copy, so its crl.pem can be replaced by a CRL that does not
  // belong to ca.pem: re-verification then fails closed (crl_reloader.hpp).
  mpx::test::TempDir certs("mpx-relay-link");
  const auto pki = mpx::test::test_pki_dir();
  for (const char* name : {"ca.pem", "crl.pem", "relay.crt", "relay.key"}) {
    std::filesystem::copy_file(pki / name, certs.path() / name);
  }
  relay_context = tls::make_context(tls::Role::relay, certs.path());
  auto options = fast_options();
  options.verify_interval = 300ms;
  options.reconnect.reconnect_delay = 1500ms;
  options.reconnect.quick_retry = 100ms;
  options.reconnect.short_lived = 0s;  // a plain loss would be retried after 100 ms
  make_link(options)->start();
  ASSERT_TRUE(wait_connected());
  const auto first = server->current();
  std::filesystem::copy_file(pki / "crl-other-ca.pem", certs.path() / "crl.pem",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(run_until(io, [&] { return first->closed; }, 5000ms));
  EXPECT_FALSE(link->connected());
  ASSERT_TRUE(run_until(io, [&] { return server->connections().size() >= 2; }, 8000ms));
  const double gap = seconds_between(first->closed_at, server->connections()[1]->accepted_at);
  EXPECT_GE(gap, 1.2);
  EXPECT_LT(gap, 5.0);
}

// Runs `io` on another thread and reports whether run() returned by itself within `timeout`.
bool run_returns(asio::io_context& io, std::chrono::milliseconds timeout) {
  io.restart();
  auto finished = std::async(std::launch::async, [&io] { io.run(); });
  if (finished.wait_for(timeout) == std::future_status::ready) {
    return true;
  }
  io.stop();
  finished.wait();
  return false;
}

TEST_F(RelayLinkConnection, StopWhileConnectedLeavesNothingPending) {
  auto options = fast_options();
  options.keepalive_interval = 1s;
  options.verify_interval = 1s;
  make_link(options)->start();
  ASSERT_TRUE(wait_connected());
  server->stop();  // the fake's own work goes too
  link->stop();
  EXPECT_TRUE(run_returns(io, 5000ms));
  EXPECT_FALSE(link->connected());
}

TEST_F(RelayLinkConnection, StopWhileWaitingToRetryLeavesNothingPending) {
  auto options = fast_options();
  options.reconnect.reconnect_delay = 60s;
  server->stop();
  make_link(options)->start();
  run_for(io, 300ms);  // connect refused, now waiting 60 s
  EXPECT_FALSE(link->connected());
  link->stop();
  EXPECT_TRUE(run_returns(io, 5000ms));
}

TEST_F(RelayLinkConnection, StopDuringAHandshakeLeavesNothingPending) {
  // A listener that never answers the TLS handshake.
  asio::ip::tcp::acceptor silent(io,
                                 asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::optional<asio::ip::tcp::socket> peer;
  silent.async_accept([&](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (!ec) {
      peer.emplace(std::move(socket));
    }
  });
  link = std::make_shared<DispatcherLink>(
      io.get_executor(), relay_context,
      DispatcherId{asio::ip::make_address_v4("127.0.0.1"), silent.local_endpoint().port()}, "",
      fast_options(), handler);
  link->start();
  ASSERT_TRUE(run_until(
      io, [&] { return peer.has_value(); }, 3000ms));
  run_for(io, 100ms);
  server->stop();
  link->stop();
  peer.reset();
  silent.close();
  EXPECT_TRUE(run_returns(io, 5000ms));
}

TEST_F(RelayLinkConnection, ConnectTimeoutAppliesToAStalledHandshake) {
  asio::ip::tcp::acceptor silent(io,
                                 asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<asio::ip::tcp::socket> peers;
  std::function<void()> accept_next = [&] {
    silent.async_accept([&](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
      if (!ec) {
        peers.push_back(std::move(socket));
        accept_next();
      }
    });
  };
  accept_next();
  auto options = fast_options();
  options.connect_timeout = 300ms;
  options.reconnect.reconnect_delay = 300ms;
  link = std::make_shared<DispatcherLink>(
      io.get_executor(), relay_context,
      DispatcherId{asio::ip::make_address_v4("127.0.0.1"), silent.local_endpoint().port()}, "",
      options, handler);
  link->start();
  // Without the timeout the first attempt would hang forever: a second one proves it expired.
  ASSERT_TRUE(run_until(
      io, [&] { return peers.size() >= 2; }, 5000ms));
  EXPECT_FALSE(link->connected());
  link->stop();
  silent.close();
}

}  // namespace
}  // namespace mpx::relay::link
