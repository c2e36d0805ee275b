// DispatcherLinks over real TLS on 127.0.0.x: a link per IPv4 literal, expired routed to the
// dispatcher that asked, names resolved through a fake DNS on the worker thread (SRV target with
// the configured port), re-resolution: a dispatcher gone from DNS kept while it owns sessions,
// restored when it reappears, dropped when its sessions are gone; a failed lookup keeps the old
// address; stop() leaves the io_context with nothing to do.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>

#include "relay/link/dispatcher_links.hpp"
#include "tests/integration/relay_link/fake_dispatcher.hpp"
#include "tests/integration/relay_link/fake_dns.hpp"
#include "tests/integration/relay_link/test_handler.hpp"

namespace mpx::relay::link {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FakeDispatcher;
using testing::FakeDns;
using testing::run_for;
using testing::run_until;
using testing::ScriptedHandler;

DispatcherId at(const std::string& ip, std::uint16_t port) {
  return DispatcherId{asio::ip::make_address_v4(ip), port};
}

class RelayLinkSet : public ::testing::Test {
 protected:
  DispatcherLinksOptions options(std::vector<config::DispatcherAddress> dispatchers) {
    DispatcherLinksOptions result;
    result.dispatchers = std::move(dispatchers);
    result.dns_check_interval = 200ms;
    result.link.connect_timeout = 3s;
    result.link.keepalive_interval = 0s;
    result.link.reconnect.reconnect_delay = 1s;
    result.link.reconnect.quick_retry = 200ms;
    return result;
  }
  void make_links(DispatcherLinksOptions links_options) {
    links = std::make_unique<DispatcherLinks>(io.get_executor(), relay_context,
                                              std::move(links_options), dns);
    links->on_resolved([this] { ++rounds; });
  }
  void start_links() {
    links->start(handler, [this](const DispatcherId& id) { return owners.count(id) != 0; });
  }
  // Waits for `count` more resolution rounds to be applied.
  bool wait_rounds(int count, std::chrono::milliseconds timeout = 5000ms) {
    const int target = rounds + count;
    return run_until(
        io, [&] { return rounds >= target; }, timeout);
  }
  void TearDown() override {
    if (links) {
      links->stop();
    }
    for (auto& server : servers) {
      server->stop();
    }
    run_for(io, 50ms);
  }
  FakeDispatcher& add_server(const std::string& ip = "127.0.0.1") {
    servers.push_back(std::make_unique<FakeDispatcher>(io, server_context, ip));
    return *servers.back();
  }

  asio::io_context io;
  asio::ssl::context relay_context = testing::relay_client_context();
  asio::ssl::context server_context = testing::dispatcher_server_context();
  std::vector<std::unique_ptr<FakeDispatcher>> servers;
  ScriptedHandler handler;
  std::shared_ptr<FakeDns> dns = std::make_shared<FakeDns>();
  std::set<DispatcherId> owners;
  std::unique_ptr<DispatcherLinks> links;
  int rounds = 0;
};

TEST_F(RelayLinkSet, ConnectsToEveryLiteralAndRoutesExpiredToItsDispatcher) {
  auto& first = add_server();
  auto& second = add_server();
  make_links(options({{"127.0.0.1", first.port()}, {"127.0.0.1", second.port()}}));
  start_links();
  // Literals need no DNS: the links exist at once.
  EXPECT_EQ(links->dispatchers().size(), 2u);
  // The server side finishes its handshake a little after the relay's (TLS 1.3).
  ASSERT_TRUE(run_until(
      io, [&] { return links->connected_count() == 2 && first.current() && second.current(); },
      5000ms));
  EXPECT_EQ(dns->lookups.load(), 0);

  // The request names the link it came on.
  second.send("summary 0\r\n\r\n");
  ASSERT_TRUE(run_until(
      io, [&] { return !handler.senders.empty(); }, 5000ms));
  EXPECT_EQ(handler.senders[0], at("127.0.0.1", second.port()));

  EXPECT_TRUE(links->send_expired(at("127.0.0.1", first.port()), R"({"call_id": "x"})"));
  ASSERT_TRUE(run_until(
      io, [&] { return first.current() && !first.current()->lines.empty(); }, 5000ms));
  EXPECT_EQ(first.current()->lines[0], R"(expired {"call_id": "x"})");
  run_for(io, 100ms);
  for (const auto& line : second.all_lines()) {
    EXPECT_NE(line.substr(0, 7), "expired");
  }
  // A dispatcher without a link: the statistics are lost and the caller is told.
  EXPECT_FALSE(links->send_expired(at("127.0.0.9", 1), R"({"call_id": "y"})"));
}

TEST_F(RelayLinkSet, ResolvesNamesThroughSrvWithTheConfiguredPort) {
  auto& server = add_server();
  dns->set_srv("_sip._udp.dispatchers.test", {"d1.dispatchers.test"});
  dns->set_a("d1.dispatchers.test", {"127.0.0.1"});
  dns->set_a("dispatchers.test", {"127.0.0.3"});  // ignored: SRV wins
  make_links(options({{"dispatchers.test", server.port()}}));
  start_links();
  ASSERT_TRUE(run_until(
      io, [&] { return links->connected_count() == 1; }, 5000ms));
  EXPECT_EQ(links->dispatchers(), std::vector<DispatcherId>{at("127.0.0.1", server.port())});
  EXPECT_GT(dns->lookups.load(), 0);
}

TEST_F(RelayLinkSet, DispatcherGoneFromDnsIsKeptWhileItOwnsSessionsThenDropped) {
  auto& server = add_server();
  dns->set_a("d.test", {"127.0.0.1"});
  make_links(options({{"d.test", server.port()}}));
  start_links();
  ASSERT_TRUE(run_until(
      io, [&] { return links->connected_count() == 1; }, 5000ms));
  const auto id = at("127.0.0.1", server.port());

  // Gone from DNS while it still owns a session: kept and connected.
  owners.insert(id);
  dns->remove("d.test");
  ASSERT_TRUE(wait_rounds(2));
  EXPECT_TRUE(links->has_link(id));
  EXPECT_EQ(links->connected_count(), 1u);

  // Back in DNS: restored (the same link, never disconnected).
  const auto link_before = links->link(id);
  dns->set_a("d.test", {"127.0.0.1"});
  ASSERT_TRUE(wait_rounds(2));
  owners.clear();
  ASSERT_TRUE(wait_rounds(1));
  EXPECT_EQ(links->link(id), link_before);
  EXPECT_EQ(server.connections().size(), 1u);

  // Gone again, and its sessions are gone: dropped after the next round.
  dns->remove("d.test");
  ASSERT_TRUE(wait_rounds(1));
  ASSERT_TRUE(run_until(
      io, [&] { return !links->has_link(id); }, 3000ms));
  ASSERT_TRUE(run_until(
      io, [&] { return server.current() && server.current()->closed; }, 3000ms));
  EXPECT_EQ(links->connected_count(), 0u);
  EXPECT_FALSE(links->send_expired(id, R"({"call_id": "late"})"));
}

TEST_F(RelayLinkSet, OrphanIsReleasedWhenTheSessionLayerSaysSo) {
  auto& server = add_server();
  dns->set_a("d.test", {"127.0.0.1"});
  auto links_options = options({{"d.test", server.port()}});
  links_options.dns_check_interval = 300ms;
  make_links(links_options);
  start_links();
  ASSERT_TRUE(run_until(
      io, [&] { return links->connected_count() == 1; }, 5000ms));
  const auto id = at("127.0.0.1", server.port());
  owners.insert(id);
  dns->remove("d.test");
  ASSERT_TRUE(wait_rounds(1));
  EXPECT_TRUE(links->has_link(id));
  owners.clear();
  links->release_orphans();  // the last session ended: no need to wait for DNS
  EXPECT_FALSE(links->has_link(id));
}

TEST_F(RelayLinkSet, NewAddressGetsANewLinkAndAFailedLookupKeepsTheOldOne) {
  auto& first = add_server("127.0.0.1");
  dns->set_a("d.test", {"127.0.0.1"});
  make_links(options({{"d.test", first.port()}}));
  start_links();
  ASSERT_TRUE(run_until(
      io, [&] { return links->connected_count() == 1; }, 5000ms));
  const auto old_id = at("127.0.0.1", first.port());

  dns->set_failing("d.test", true);
  ASSERT_TRUE(wait_rounds(2));
  EXPECT_TRUE(links->has_link(old_id));
  EXPECT_EQ(links->connected_count(), 1u);

  // The name moves to 127.0.0.2 (nobody listens there on that port): a link to the new address,
  // the old one dropped since it owns no session.
  dns->set_failing("d.test", false);
  dns->set_a("d.test", {"127.0.0.2"});
  const auto new_id = at("127.0.0.2", first.port());
  ASSERT_TRUE(run_until(
      io, [&] { return links->has_link(new_id); }, 5000ms));
  ASSERT_TRUE(run_until(
      io, [&] { return !links->has_link(old_id); }, 5000ms));
  EXPECT_EQ(links->dispatchers(), std::vector<DispatcherId>{new_id});
}

TEST_F(RelayLinkSet, ALookupSlowerThanTheIntervalDoesNotStopReResolution) {
  auto& server = add_server();
  dns->set_a("d.test", {"127.0.0.1"});
  make_links(options({{"d.test", server.port()}}));  // a round every 200 ms
  dns->slow_ms = 700;
  start_links();
  ASSERT_TRUE(wait_rounds(1, 5000ms));
  dns->slow_ms = 0;
  // Rounds that came due during the slow lookup were skipped, not lost for good.
  ASSERT_TRUE(wait_rounds(3, 5000ms));
  EXPECT_EQ(links->dispatchers(), std::vector<DispatcherId>{at("127.0.0.1", server.port())});
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

TEST_F(RelayLinkSet, StopLeavesNothingPending) {
  auto& server = add_server();
  dns->set_a("d.test", {"127.0.0.1"});
  make_links(
      options({{"d.test", server.port()}, {"127.0.0.1", server.port()}, {"absent.test", 1}}));
  start_links();
  ASSERT_TRUE(run_until(
      io, [&] { return links->connected_count() >= 1; }, 5000ms));
  server.stop();
  links->stop();
  EXPECT_EQ(links->connected_count(), 0u);
  EXPECT_TRUE(run_returns(io, 5000ms));
}

}  // namespace
}  // namespace mpx::relay::link
