// The mpx-dispatcher binary: serves a call end to end with the log accounting back-end, stops on
// SIGTERM removing its socket file, and refuses to start with one clear line when its
// certificates, relay port or socket path are unusable.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>
#include <thread>

#include "common/version.hpp"
#include "tests/integration/dispatcher/dispatcher_harness.hpp"
#include "tests/integration/dispatcher/scripted_relay.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"

namespace mpx::dispatcher::testing {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::tcp;

std::uint16_t free_port() {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// The daemon logs this once both listeners are open and the socket has its final mode.
bool ready(const mpx::test::Child& daemon) {
  return daemon.log().find("serving the proxy module on") != std::string::npos;
}

struct DaemonFiles {
  mpx::test::TempDir dir{"mpx-dispatcher-bin"};
  std::uint16_t port = free_port();
  std::uint16_t management_port = free_port();

  explicit DaemonFiles(const std::string& extra = "", const std::string& certs = "") {
    dir.write("config.ini", "[Dispatcher]\nlisten = 127.0.0.1:" + std::to_string(port) +
                                "\nlisten_management = 127.0.0.1:" +
                                std::to_string(management_port) +
                                "\n" + extra + "\n[TLS]\ncerts_path = " +
                                (certs.empty() ? mpx::test::test_pki_dir().string() : certs) +
                                "\n");
  }
  std::filesystem::path runtime() const { return dir.path() / "run"; }
  std::filesystem::path socket() const { return runtime() / "dispatcher.sock"; }
  std::vector<std::string> argv() const {
    return {MPX_DISPATCHER_BINARY, "--no-fork", "--config-dir",
            dir.path().string(), "--runtime-dir", runtime().string()};
  }
};

TEST(DispatcherBinary, ServesACallAndStopsCleanlyOnSigterm) {
  DaemonFiles setup;
  mpx::test::Child daemon(setup.argv(), (setup.dir.path() / "daemon.log").string());
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return ready(daemon); })) << daemon.log();
  EXPECT_EQ(std::filesystem::status(setup.socket()).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::group_write);

  ScriptedRelay relay("127.0.0.2", healthy_relay("127.0.0.2"));
  ASSERT_TRUE(relay.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), setup.port)));
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return relay.count("sessions") == 1; }))
      << daemon.log();
  ModuleClient module(setup.socket());
  EXPECT_EQ(module.ask(opensips_request("use_media_proxy/1-INVITE-update-request.req")),
            "127.0.0.2 40002");
  EXPECT_EQ(module.ask(opensips_request("use_media_proxy/3-BYE-remove.req")), "removed");
  ASSERT_TRUE(DispatcherHarness::eventually(
      [&] { return daemon.log().find("accounting: call_id=") != std::string::npos; }))
      << daemon.log();

  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  EXPECT_FALSE(std::filesystem::exists(setup.socket()));
  EXPECT_TRUE(relay.wait_closed(3s));
}

// The management interface is wired into the daemon: plain TCP here (management_use_tls = no),
// answering from the live relay registry.
TEST(DispatcherBinary, ManagementInterfaceAnswersFromTheRelays) {
  DaemonFiles setup("management_use_tls = no");
  mpx::test::Child daemon(setup.argv(), (setup.dir.path() / "daemon.log").string());
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return ready(daemon); })) << daemon.log();
  ScriptedRelay relay("127.0.0.2", healthy_relay("127.0.0.2"));
  ASSERT_TRUE(relay.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), setup.port)));
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return relay.count("sessions") == 1; }))
      << daemon.log();

  boost::asio::io_context io;
  tcp::socket management(io);
  management.connect(
      tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), setup.management_port));
  const std::string commands = "version\r\nsummary\r\nquit\r\n";
  boost::asio::write(management, boost::asio::buffer(commands));
  std::string answers;
  boost::system::error_code ec;
  char buf[4096];
  for (std::size_t n; (n = management.read_some(boost::asio::buffer(buf), ec)) > 0 || !ec;) {
    answers.append(buf, n);
  }
  EXPECT_EQ(answers.rfind(std::string(mpx::kVersion) + "\r\n[{", 0), 0U) << answers;
  EXPECT_NE(answers.find("\"ip\": \"127.0.0.2\""), std::string::npos) << answers;
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

// [Dispatcher] listen_metrics: the Prometheus endpoint counts the module's requests and their
// answer times, lists the relays, and says what the accounting back-end delivered.
TEST(DispatcherBinary, MetricsEndpointCountsModuleRequestsRelaysAndAccounting) {
  const std::uint16_t metrics_port = free_port();
  DaemonFiles setup("listen_metrics = 127.0.0.1:" + std::to_string(metrics_port) +
                    "\naccounting = database");
  mpx::test::Child daemon(setup.argv(), (setup.dir.path() / "daemon.log").string());
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return ready(daemon); })) << daemon.log();
  ScriptedRelay relay("127.0.0.2", healthy_relay("127.0.0.2"));
  ASSERT_TRUE(relay.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), setup.port)));
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return relay.count("sessions") == 1; }))
      << daemon.log();
  ModuleClient module(setup.socket());
  EXPECT_EQ(module.ask(opensips_request("use_media_proxy/1-INVITE-update-request.req")),
            "127.0.0.2 40002");
  EXPECT_EQ(module.ask("bogus\r\n\r\n"), "error");
  EXPECT_EQ(module.ask(opensips_request("use_media_proxy/3-BYE-remove.req")), "removed");

  const auto scrape = [&] {
    boost::asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), metrics_port));
    boost::asio::write(socket, boost::asio::buffer(std::string("GET /metrics HTTP/1.0\r\n\r\n")));
    std::string text;
    boost::system::error_code ec;
    boost::asio::read(socket, boost::asio::dynamic_buffer(text), ec);
    return text;
  };
  const std::string delivered =
      "\nmpx_dispatcher_accounting_records_total{backend=\"database\",outcome=\"delivered\"} 1\n";
  std::string text;
  EXPECT_TRUE(DispatcherHarness::eventually([&] {
    text = scrape();
    return text.find(delivered) != std::string::npos;
  })) << text;
  EXPECT_EQ(text.rfind("HTTP/1.0 200 OK", 0), 0U) << text;
  EXPECT_NE(text.find("\nmpx_dispatcher_accounting_backlog{backend=\"database\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nmpx_dispatcher_accounting_up{backend=\"database\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nmpx_dispatcher_relays 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nmpx_dispatcher_relay_sessions{relay=\"127.0.0.2\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nmpx_dispatcher_module_requests_total{command=\"update\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nmpx_dispatcher_module_requests_total{command=\"remove\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nmpx_dispatcher_module_requests_total{command=\"other\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nmpx_dispatcher_module_errors_total{kind=\"error_answer\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nmpx_dispatcher_module_answer_seconds_count 3\n"), std::string::npos)
      << text;
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST(DispatcherBinary, RefusesMissingCertificates) {
  DaemonFiles setup("", "/nonexistent/tls");
  const auto result = mpx::test::run(setup.argv(), 10s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("mpx-dispatcher: TLS credentials for relays: /nonexistent/tls"),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(setup.socket()));
}

TEST(DispatcherBinary, RefusesARelayPortInUse) {
  DaemonFiles setup;
  boost::asio::io_context io;
  tcp::acceptor taken(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), setup.port));
  const auto result = mpx::test::run(setup.argv(), 10s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("mpx-dispatcher: cannot listen for relays on 127.0.0.1:" +
                            std::to_string(setup.port) + ": "),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(setup.socket()));  // removed again
}

TEST(DispatcherBinary, RefusesAnUnusableSocketPath) {
  DaemonFiles setup("socket_path = /proc/self/no/such/dispatcher.sock");
  const auto result = mpx::test::run(setup.argv(), 10s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("mpx-dispatcher: module socket /proc/self/no/such/dispatcher.sock: "),
            std::string::npos)
      << result.err;
}

TEST(DispatcherBinary, RefusesToReplaceALiveSocket) {
  DaemonFiles setup;
  mpx::test::Child first(setup.argv(), (setup.dir.path() / "first.log").string());
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return ready(first); })) << first.log();
  DaemonFiles second_config;
  auto argv = second_config.argv();
  argv.back() = setup.runtime().string();  // same runtime directory, other port
  const auto result = mpx::test::run(argv, 10s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("another process is serving it"), std::string::npos) << result.err;
  EXPECT_TRUE(std::filesystem::exists(setup.socket()));
}

}  // namespace
}  // namespace mpx::dispatcher::testing
