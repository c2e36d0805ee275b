// The management server over real sockets on 127.0.0.1: real TLS with the test PKI (the client
// presents management.crt), each command, several commands per connection, the "\r\n"-only
// framing, the line limit, refused clients (other CA, no certificate, wrong passport), plain TCP
// mode, many connections, and the graceful stop.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/tls/context.hpp"
#include "common/version.hpp"
#include "dispatcher/management/management_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/unit/dispatcher_services/log_capture.hpp"


namespace mpx::dispatcher {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using testing::LogCapture;

constexpr const char* kSessions =
    R"([{"call_id": "c1", "from_tag": "f1", "streams": []}, {"call_id": "c2", "from_tag": "f2", "streams": []}])";
constexpr const char* kSummary =
    R"([{"ip": "192.0.2.1", "version": "4.1.2", "status": "active"}, {"status": "error", "ip": "192.0.2.2"}])";

class FakeBackend final : public ManagementBackend {
 public:
  asio::awaitable<std::string> sessions_json() override {
    ++calls;
    if (fail) {
      throw std::runtime_error("relay registry exploded");
    }
    if (delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, delay);
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return kSessions;
  }
  asio::awaitable<std::string> summary_json() override {
    ++calls;
    co_return kSummary;
  }

  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  std::chrono::milliseconds delay{0};
};

std::filesystem::path pki() { return mpx::test::test_pki_dir(); }

ssl::context client_context(const std::string& name) {
  return tls::make_client_context(
      {pki() / (name + ".crt"), pki() / (name + ".key"), pki() / "ca.pem", pki() / "crl.pem"});
}

// A management client on its own io_context; every wait is bounded.
class Client {
 public:
  // TLS when `context` is given.
  Client(const tcp::endpoint& server, ssl::context* context) {
    if (context != nullptr) {
      tls_ = std::make_unique<ssl::stream<tcp::socket>>(io_, *context);
    } else {
      plain_ = std::make_unique<tcp::socket>(io_);
    }
    boost::system::error_code ec;
    socket().connect(server, ec);
    connected_ = !ec;
  }

  bool connected() const { return connected_; }

  // The handshake's error ("" on success).
  std::string handshake() {
    if (!tls_) {
      return "";
    }
    std::optional<boost::system::error_code> result;
    tls_->async_handshake(ssl::stream_base::client,
                          [&](const boost::system::error_code& ec) { result = ec; });
    run([&] { return result.has_value(); }, 5000ms);
    if (!result) {
      return "handshake timed out";
    }
    return result->failed() ? result->message() : "";
  }

  void send(const std::string& data) {
    std::optional<boost::system::error_code> result;
    auto done = [&](const boost::system::error_code& ec, std::size_t) { result = ec; };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(data), done);
    } else {
      asio::async_write(*plain_, asio::buffer(data), done);
    }
    run([&] { return result.has_value(); }, 5000ms);
  }

  // The next line without "\r\n"; nullopt if none came within `timeout` or the connection ended
  // (then closed() is true). A read still pending after a timeout is continued by the next call.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 5000ms) {
    if (!pending_) {
      pending_ = std::make_shared<Pending>();
      auto pending = pending_;
      auto done = [pending](const boost::system::error_code& ec, std::size_t size) {
        pending->done = true;
        pending->ec = ec;
        pending->size = size;
      };
      if (tls_) {
        asio::async_read_until(*tls_, asio::dynamic_buffer(buffer_), "\r\n", done);
      } else {
        asio::async_read_until(*plain_, asio::dynamic_buffer(buffer_), "\r\n", done);
      }
    }
    run([&] { return pending_->done; }, timeout);
    if (!pending_->done) {
      return std::nullopt;
    }
    const auto result = *pending_;
    pending_.reset();
    if (result.ec) {
      closed_ = true;
      return std::nullopt;
    }
    std::string line = buffer_.substr(0, result.size - 2);
    buffer_.erase(0, result.size);
    return line;
  }

  // True when the server ends the connection within `timeout` (no further line arrives).
  bool closed_by_server(std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && std::chrono::steady_clock::now() < deadline) {
      if (read_line(deadline > std::chrono::steady_clock::now()
                        ? std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                        : 0ms)) {
        return false;  // got data instead
      }
    }
    return closed_;
  }

  std::string command(const std::string& line) {
    send(line + "\r\n");
    return read_line().value_or("<no answer>");
  }

 private:
  struct Pending {
    bool done = false;
    boost::system::error_code ec;
    std::size_t size = 0;
  };

  tcp::socket::lowest_layer_type& socket() { return tls_ ? tls_->lowest_layer() : *plain_; }

  template <class Done>
  void run(Done done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(5ms);
    }
  }

  asio::io_context io_;
  std::unique_ptr<ssl::stream<tcp::socket>> tls_;
  std::unique_ptr<tcp::socket> plain_;
  std::string buffer_;
  std::shared_ptr<Pending> pending_;
  bool connected_ = false;
  bool closed_ = false;
};

class ManagementTest : public ::testing::Test {
 protected:
  void start(ManagementServerSettings settings) {
    settings.listen = tcp::endpoint(asio::ip::address_v4::loopback(), 0);
    if (settings.certs_path.empty()) {
      settings.certs_path = pki();
    }
    auto server = ManagementServer::create(io_.get_executor(), settings, backend_);
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(server).value();
    endpoint_ = server_->local_endpoint();
    server_->start();
    thread_ = std::thread([this] {
      io_.run();
      finished_ = true;
    });
  }

  void start_tls(std::optional<std::string> passport = std::nullopt) {
    ManagementServerSettings settings;
    if (passport) {
      settings.passport = *tls::Passport::parse(*passport).value();
    }
    start(settings);
  }

  // Stops the server and reports whether every connection and the accept loop ended in time.
  bool stop_server(std::chrono::milliseconds limit = 5000ms) {
    if (!server_) {
      return true;
    }
    server_->stop();
    work_.reset();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!finished_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    const bool clean = finished_;
    if (!clean) {
      io_.stop();
    }
    thread_.join();
    server_.reset();
    return clean;
  }

  // The server thread logs after the client may already have seen the outcome.
  bool logged(const std::string& needle, std::chrono::milliseconds limit = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!log_.contains(needle)) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  void TearDown() override { EXPECT_TRUE(stop_server()) << "server did not stop in time"; }

  Client tls_client(const std::string& name = "management") {
    contexts_.push_back(std::make_unique<ssl::context>(client_context(name)));
    return Client(endpoint_, contexts_.back().get());
  }

  LogCapture log_;  // first in, last out: outlives the server thread
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  FakeBackend backend_;
  std::unique_ptr<ManagementServer> server_;
  tcp::endpoint endpoint_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::vector<std::unique_ptr<ssl::context>> contexts_;
};

TEST_F(ManagementTest, AnswersEachCommandOverTls) {
  start_tls();
  auto client = tls_client();
  ASSERT_TRUE(client.connected());
  ASSERT_EQ(client.handshake(), "");
  EXPECT_EQ(client.command("version"), kVersion);
  EXPECT_EQ(client.command("sessions"), kSessions);
  EXPECT_EQ(client.command("summary"), kSummary);
  EXPECT_EQ(client.command("bogus"), "error");
  EXPECT_EQ(client.command("SESSIONS"), "error");
  EXPECT_EQ(client.command(""), "error");
  client.send("quit\r\n");
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(log_.contains("info management connection from 127.0.0.1:")) << log_.text();
  EXPECT_TRUE(log_.contains("CN=mpxctl.mpx.test")) << log_.text();
  EXPECT_TRUE(log_.quiet()) << log_.text();
}

TEST_F(ManagementTest, ExitClosesToo) {
  start_tls();
  auto client = tls_client();
  ASSERT_EQ(client.handshake(), "");
  client.send("exit\r\n");
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(ManagementTest, SeveralCommandsInOneWriteAreAnsweredInOrder) {
  start_tls();
  auto client = tls_client();
  ASSERT_EQ(client.handshake(), "");
  client.send("version\r\nsessions\r\nnope\r\nsummary\r\nquit\r\nversion\r\n");
  EXPECT_EQ(client.read_line(), kVersion);
  EXPECT_EQ(client.read_line(), kSessions);
  EXPECT_EQ(client.read_line(), "error");
  EXPECT_EQ(client.read_line(), kSummary);
  // Nothing after quit is answered.
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(backend_.calls, 2);
}

TEST_F(ManagementTest, BareLineFeedIsNotATerminator) {
  start_tls();
  auto client = tls_client();
  ASSERT_EQ(client.handshake(), "");
  client.send("version\n");
  EXPECT_EQ(client.read_line(300ms), std::nullopt);
  client.send("summary\n");
  EXPECT_EQ(client.read_line(200ms), std::nullopt);
  client.send("\r\n");  // the line is "version\nsummary\n": not a command
  EXPECT_EQ(client.read_line(), "error");
  EXPECT_EQ(client.command("version"), kVersion);  // still usable
  EXPECT_EQ(backend_.calls, 0);
}

TEST_F(ManagementTest, CommandSplitAcrossWritesIsAnsweredOnceComplete) {
  start_tls();
  auto client = tls_client();
  ASSERT_EQ(client.handshake(), "");
  client.send("sess");
  EXPECT_EQ(client.read_line(200ms), std::nullopt);
  client.send("ions\r");
  EXPECT_EQ(client.read_line(200ms), std::nullopt);
  client.send("\n");
  EXPECT_EQ(client.read_line(), kSessions);
}

TEST_F(ManagementTest, LineOfTheMaximumLengthIsAnsweredLongerClosesTheConnection) {
  start_tls();
  auto client = tls_client();
  ASSERT_EQ(client.handshake(), "");
  EXPECT_EQ(client.command(std::string(16384, 'x')), "error");
  client.send(std::string(16385, 'y'));
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(logged("warning management connection from 127.0.0.1:")) << log_.text();
}

TEST_F(ManagementTest, ClientFromAnotherCaIsRefused) {
  start_tls();
  auto client = tls_client("other");
  ASSERT_TRUE(client.connected());
  client.handshake();  // TLS 1.3: the client may think it succeeded before the server's verdict
  client.send("version\r\n");
  EXPECT_EQ(client.read_line(), std::nullopt);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(backend_.calls, 0);
  EXPECT_TRUE(logged("refused: TLS handshake failed")) << log_.text();
  EXPECT_FALSE(log_.contains("info management connection from")) << log_.text();
}

TEST_F(ManagementTest, ClientWithoutCertificateIsRefused) {
  start_tls();
  contexts_.push_back(std::make_unique<ssl::context>(ssl::context::tls_client));
  contexts_.back()->set_verify_mode(ssl::verify_none);
  Client client(endpoint_, contexts_.back().get());
  ASSERT_TRUE(client.connected());
  client.handshake();
  client.send("version\r\n");
  EXPECT_EQ(client.read_line(), std::nullopt);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(logged("refused")) << log_.text();
  EXPECT_TRUE(log_.contains("warning management connection from 127.0.0.1:")) << log_.text();
}

TEST_F(ManagementTest, PassportMismatchIsRefused) {
  start_tls("OU:relays");
  auto client = tls_client();
  client.handshake();
  client.send("version\r\n");
  EXPECT_EQ(client.read_line(), std::nullopt);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(logged("refused: refused due to wrong passport: OU='management'"))
      << log_.text();
}

TEST_F(ManagementTest, MatchingPassportIsAccepted) {
  start_tls("OU:manage*, CN:*.mpx.test");
  auto client = tls_client();
  ASSERT_EQ(client.handshake(), "");
  EXPECT_EQ(client.command("version"), kVersion);
}

TEST_F(ManagementTest, PlainTcpModeWorksAndLogsNoErrors) {
  ManagementServerSettings settings;
  settings.use_tls = false;
  settings.certs_path = "/nonexistent";  // not needed without TLS
  start(settings);
  Client client(endpoint_, nullptr);
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.command("version"), kVersion);
  EXPECT_EQ(client.command("sessions"), kSessions);
  EXPECT_EQ(client.command("summary"), kSummary);
  EXPECT_EQ(client.command("what"), "error");
  client.send("quit\r\n");
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(log_.contains("info management connection from 127.0.0.1:")) << log_.text();
  EXPECT_TRUE(log_.contains("plain TCP")) << log_.text();
  EXPECT_TRUE(log_.quiet()) << log_.text();
}

TEST_F(ManagementTest, ManyConcurrentConnections) {
  start_tls();
  std::vector<std::unique_ptr<Client>> clients;
  contexts_.push_back(std::make_unique<ssl::context>(client_context("management")));
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<Client>(endpoint_, contexts_.back().get()));
    ASSERT_EQ(clients.back()->handshake(), "") << i;
  }
  // Every connection stays open and answers, in an interleaved order.
  for (auto& client : clients) {
    client->send("summary\r\n");
  }
  for (auto& client : clients) {
    EXPECT_EQ(client->read_line(), kSummary);
    EXPECT_EQ(client->command("version"), kVersion);
  }
  EXPECT_EQ(backend_.calls, 16);
}

TEST_F(ManagementTest, BackendFailureAnswersErrorAndKeepsTheConnection) {
  start_tls();
  auto client = tls_client();
  ASSERT_EQ(client.handshake(), "");
  backend_.fail = true;
  EXPECT_EQ(client.command("sessions"), "error");
  backend_.fail = false;
  EXPECT_EQ(client.command("sessions"), kSessions);
  EXPECT_TRUE(log_.contains("error management command from 127.0.0.1:")) << log_.text();
  EXPECT_TRUE(log_.contains("failed: relay registry exploded")) << log_.text();
}

TEST_F(ManagementTest, StopClosesIdleConnectionsAndTheListener) {
  start_tls();
  auto idle = tls_client();
  ASSERT_EQ(idle.handshake(), "");
  EXPECT_EQ(idle.command("version"), kVersion);
  EXPECT_TRUE(stop_server());
  EXPECT_TRUE(idle.closed_by_server());
  Client late(endpoint_, nullptr);
  EXPECT_FALSE(late.connected());
}

TEST_F(ManagementTest, StopLetsABusyConnectionFinishItsAnswer) {
  ManagementServerSettings settings;
  settings.use_tls = false;
  backend_.delay = 400ms;
  start(settings);
  Client busy(endpoint_, nullptr);
  busy.send("sessions\r\n");
  // Wait until the backend call is in progress, then stop.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (backend_.calls == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(backend_.calls, 1);
  server_->stop();
  EXPECT_EQ(busy.read_line(), kSessions);
  EXPECT_TRUE(busy.closed_by_server());
  EXPECT_TRUE(stop_server());
}

TEST_F(ManagementTest, ClientRevokedWhileConnectedIsDisconnected) {
  // A private copy of the certificates, so crl.pem can be replaced under the running server.
  const mpx::test::TempDir certs("mpx-mgmt-crl");
  for (const char* name : {"dispatcher.crt", "dispatcher.key", "ca.pem", "crl.pem"}) {
    std::filesystem::copy_file(pki() / name, certs.path() / name);
  }
  ManagementServerSettings settings;
  settings.certs_path = certs.path();
  settings.verify_interval = std::chrono::seconds(1);
  start(settings);
  auto client = tls_client("relay");  // same CA; no management_passport configured
  ASSERT_EQ(client.handshake(), "");
  EXPECT_EQ(client.command("version"), kVersion);
  std::filesystem::copy_file(pki() / "crl-revoking-relay.pem", certs.path() / "crl.pem.new");
  std::filesystem::rename(certs.path() / "crl.pem.new", certs.path() / "crl.pem");
  EXPECT_TRUE(client.closed_by_server(5000ms));
  EXPECT_TRUE(logged("revoked")) << log_.text();
}

TEST(ManagementServerSetup, BadCertificatesDirectoryIsOneLineError) {
  const mpx::test::TempDir empty("mpx-mgmt-certs");
  asio::io_context io;
  FakeBackend backend;
  ManagementServerSettings settings;
  settings.listen = tcp::endpoint(asio::ip::address_v4::loopback(), 0);
  settings.certs_path = empty.path();
  const auto server = ManagementServer::create(io.get_executor(), settings, backend);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().message.rfind("management interface: ", 0), 0U)
      << server.error().message;
  EXPECT_NE(server.error().message.find(empty.path().string()), std::string::npos)
      << server.error().message;
  EXPECT_EQ(server.error().message.find('\n'), std::string::npos);
}

TEST(ManagementServerSetup, PortInUseIsOneLineError) {
  asio::io_context io;
  tcp::acceptor taken(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  FakeBackend backend;
  ManagementServerSettings settings;
  settings.use_tls = false;
  settings.listen = taken.local_endpoint();
  const auto server = ManagementServer::create(io.get_executor(), settings, backend);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().message,
            "management interface: cannot listen on 127.0.0.1:" +
                std::to_string(taken.local_endpoint().port()) + ": Address already in use");
}

}  // namespace
}  // namespace mpx::dispatcher
