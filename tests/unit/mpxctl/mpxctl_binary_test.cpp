// The built mpxctl binary against an in-process ManagementServer on 127.0.0.1 (plain TCP, and
// TLS with the test PKI): raw JSON passed through unchanged, the tables, `top` refreshing a given
// number of times, and every failure (refused connection, refused certificate, "error" answer,
// malformed JSON, a silent server) ending with exit status 1 and one "mpxctl: " line.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dispatcher/management/management_server.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"

namespace mpx::mpxctl {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

std::string fixture_line(const std::string& name) {
  std::ifstream file(mpx::test::source_path("tests/unit/mpxctl/fixtures/" + name));
  std::string line;
  std::getline(file, line);
  return line;
}

class FakeBackend final : public dispatcher::ManagementBackend {
 public:
  asio::awaitable<std::string> sessions_json() override {
    ++sessions_calls;
    co_return sessions;
  }
  asio::awaitable<std::string> summary_json() override {
    ++summary_calls;
    if (summary_fails) {
      throw std::runtime_error("no relays today");
    }
    co_return summary;
  }
  std::string sessions = fixture_line("sessions.json");
  std::string summary = fixture_line("summary.json");
  bool summary_fails = false;
  std::atomic<int> sessions_calls{0};
  std::atomic<int> summary_calls{0};
};

int count_of(const std::string& text, const std::string& needle) {
  int count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// One line on stderr starting with "mpxctl: ", nothing on stdout.
void expect_one_error_line(const mpx::test::RunResult& result) {
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err.rfind("mpxctl: ", 0), 0U) << result.err;
  EXPECT_EQ(count_of(result.err, "\n"), 1) << result.err;
}

class MpxctlBinaryTest : public ::testing::Test {
 protected:
  void start(bool use_tls) {
    dispatcher::ManagementServerSettings settings;
    settings.listen = tcp::endpoint(asio::ip::address_v4::loopback(), 0);
    settings.use_tls = use_tls;
    settings.certs_path = use_tls ? mpx::test::test_pki_dir() : "/nonexistent";
    auto server = dispatcher::ManagementServer::create(io_.get_executor(), settings, backend_);
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(server).value();
    port_ = std::to_string(server_->local_endpoint().port());
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
    work_.reset();
    io_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  mpx::test::RunResult mpxctl(std::vector<std::string> args) {
    args.insert(args.begin(), {MPX_MPXCTL_BIN, "--port", port_});
    return mpx::test::run(args, 30s);
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  FakeBackend backend_;
  std::unique_ptr<dispatcher::ManagementServer> server_;
  std::string port_;
  std::thread thread_;
};

TEST_F(MpxctlBinaryTest, SessionsJsonIsTheServersLineUnchanged) {
  start(false);
  const auto result = mpxctl({"sessions", "--json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, backend_.sessions + "\n");
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(backend_.sessions_calls, 1);
}

TEST_F(MpxctlBinaryTest, SummaryIsATable) {
  start(false);
  const auto result = mpxctl({"summary"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("RELAYED"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("1.2 Mbit/s"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("datapath of 198.51.100.1 (tc): flows 30"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("3 relays"), std::string::npos) << result.out;
  EXPECT_EQ(result.err, "");
}

TEST_F(MpxctlBinaryTest, SessionsIsATable) {
  start(false);
  const auto result = mpxctl({"sessions"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("PCMU/PCMA"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("2 sessions, 2 streams"), std::string::npos) << result.out;
}

TEST_F(MpxctlBinaryTest, TopRefreshesTheGivenNumberOfTimes) {
  start(false);
  const auto began = std::chrono::steady_clock::now();
  const auto result = mpxctl({"top", "--iterations", "2", "--interval", "0.2"});
  const auto took = std::chrono::steady_clock::now() - began;
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count_of(result.out, "\x1b[H\x1b[2J"), 2) << result.out;
  EXPECT_EQ(count_of(result.out, "mpxctl top: 127.0.0.1:" + port_), 2) << result.out;
  EXPECT_EQ(count_of(result.out, "RELAYS\n"), 2) << result.out;
  EXPECT_EQ(count_of(result.out, "2 sessions, 2 streams"), 2) << result.out;
  EXPECT_EQ(backend_.summary_calls, 2);
  EXPECT_EQ(backend_.sessions_calls, 2);
  EXPECT_GE(took, 200ms);
}

TEST_F(MpxctlBinaryTest, TopEndsCleanlyOnASignal) {
  start(false);
  const mpx::test::TempDir dir("mpxctl-top");
  mpx::test::Child top({MPX_MPXCTL_BIN, "--port", port_, "top", "--interval", "0.1"},
                       (dir.path() / "top.log").string());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (backend_.sessions_calls < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GE(backend_.sessions_calls, 2) << top.log();
  EXPECT_EQ(top.stop(), 0) << top.log();  // SIGTERM, like Ctrl-C's SIGINT, is a normal end
}

TEST_F(MpxctlBinaryTest, TlsWithTheManagementCertificate) {
  start(true);
  const auto result =
      mpxctl({"--tls", "--certs-dir", mpx::test::test_pki_dir().string(), "summary", "--json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, backend_.summary + "\n");
}

TEST_F(MpxctlBinaryTest, TlsWithACertificateOfAnotherCaFails) {
  start(true);
  const auto pki = mpx::test::test_pki_dir();
  const auto result = mpxctl({"--tls", "--cert", (pki / "other.crt").string(), "--key",
                              (pki / "other.key").string(), "--ca", (pki / "ca.pem").string(),
                              "summary"});
  expect_one_error_line(result);
  // TLS 1.3: the refusal arrives after the client's side of the handshake completed.
  EXPECT_NE(result.err.find("was the client certificate refused?"), std::string::npos)
      << result.err;
  EXPECT_EQ(backend_.summary_calls, 0);
}

TEST_F(MpxctlBinaryTest, PlainClientAgainstTlsServerSuggestsTls) {
  start(true);
  const auto result = mpxctl({"--timeout", "0.5", "summary"});
  expect_one_error_line(result);
  EXPECT_NE(result.err.find("try --tls"), std::string::npos) << result.err;
}

TEST_F(MpxctlBinaryTest, MissingCertificateFileIsOneLine) {
  start(true);
  const auto result = mpxctl({"--tls", "--certs-dir", "/nonexistent/certs", "summary"});
  expect_one_error_line(result);
  EXPECT_NE(result.err.find("/nonexistent/certs/management.crt"), std::string::npos)
      << result.err;
}

TEST_F(MpxctlBinaryTest, ErrorAnswerExits1) {
  backend_.summary_fails = true;
  start(false);
  const auto result = mpxctl({"summary"});
  expect_one_error_line(result);
  EXPECT_NE(result.err.find("answered 'error' to 'summary'"), std::string::npos) << result.err;
}

TEST_F(MpxctlBinaryTest, MalformedJsonExits1EvenWithJsonOutput) {
  backend_.sessions = R"([{"call_id": )";
  start(false);
  for (const auto& args : std::vector<std::vector<std::string>>{{"sessions"},
                                                               {"sessions", "--json"}}) {
    const auto result = mpxctl(args);
    expect_one_error_line(result);
    EXPECT_NE(result.err.find("malformed JSON in the answer to 'sessions' from 127.0.0.1:"),
              std::string::npos)
        << result.err;
  }
}

TEST_F(MpxctlBinaryTest, AnswerThatIsNotAListExits1) {
  backend_.summary = R"({"ip": "198.51.100.1"})";
  start(false);
  const auto result = mpxctl({"summary"});
  expect_one_error_line(result);
  EXPECT_NE(result.err.find("expected a JSON array, got object"), std::string::npos)
      << result.err;
}

TEST(MpxctlBinary, RefusedConnectionIsOneClearLine) {
  std::string port;
  {
    asio::io_context io;
    tcp::acceptor closed(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    port = std::to_string(closed.local_endpoint().port());
  }
  const auto result = mpx::test::run({MPX_MPXCTL_BIN, "--port", port, "sessions"}, 30s);
  expect_one_error_line(result);
  EXPECT_EQ(result.err, "mpxctl: cannot connect to 127.0.0.1:" + port + ": Connection refused\n");
}

TEST(MpxctlBinary, SilentServerTimesOut) {
  asio::io_context io;
  // Listening but never accepting: the connection completes from the backlog, no answer comes.
  tcp::acceptor silent(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = std::to_string(silent.local_endpoint().port());
  const auto began = std::chrono::steady_clock::now();
  const auto result =
      mpx::test::run({MPX_MPXCTL_BIN, "--port", port, "--timeout", "0.3", "summary"}, 30s);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 10s);
  expect_one_error_line(result);
  EXPECT_EQ(result.err, "mpxctl: no answer to 'summary' from 127.0.0.1:" + port +
                            ": timed out after 300 ms\n");
}

TEST(MpxctlBinary, BadUsageExits2) {
  const auto result = mpx::test::run({MPX_MPXCTL_BIN, "--port", "99999", "sessions"}, 30s);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "mpxctl: invalid --port '99999' (see mpxctl --help)\n");
}

}  // namespace
}  // namespace mpx::mpxctl
