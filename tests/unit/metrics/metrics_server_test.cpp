// common/metrics/metrics_server: a real HTTP exchange over loopback for every outcome.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "common/metrics/metrics_server.hpp"

namespace mpx::metrics {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = MetricsServer::create(
        io_.get_executor(), {asio::ip::make_address_v4("127.0.0.1"), 0},
        [this] {
          ++scrapes_;
          MetricFamily family{"mpx_test_scrapes", "Scrapes so far.", MetricType::counter, {}};
          family.add(scrapes_.load());
          return std::vector<MetricFamily>{family};
        },
        300ms);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(server).value();
    server_->start();
    thread_ = std::thread([this] { io_.run_for(20s); });
  }
  void TearDown() override {
    asio::post(io_, [this] { server_->stop(); });
    io_.stop();
    thread_.join();
  }

  // Sends `request` raw and reads until the server closes (bounded by its timeout).
  std::string exchange(const std::string& request) {
    asio::io_context client;
    tcp::socket socket(client);
    socket.connect(server_->local_endpoint());
    asio::write(socket, asio::buffer(request));
    std::string response;
    boost::system::error_code error;
    asio::read(socket, asio::dynamic_buffer(response), error);
    return response;
  }

  asio::io_context io_;
  std::unique_ptr<MetricsServer> server_;
  std::thread thread_;
  std::atomic<int> scrapes_{0};
};

TEST_F(MetricsServerTest, GetMetricsAnswersTheTextFormatCollectedAtScrapeTime) {
  const auto first = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << first;
  EXPECT_NE(first.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << first;
  EXPECT_NE(first.find("\r\n\r\n# HELP mpx_test_scrapes"), std::string::npos) << first;
  EXPECT_NE(first.find("mpx_test_scrapes 1\n"), std::string::npos) << first;
  const auto second = exchange("GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_NE(second.find("mpx_test_scrapes 2\n"), std::string::npos) << second;
}

TEST_F(MetricsServerTest, OtherPathsAndMethodsAreRefused) {
  EXPECT_EQ(exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 404", 0), 0U);
  const auto post = exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0U) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD"), std::string::npos) << post;
  EXPECT_EQ(scrapes_, 0) << "a refused request must not run the collector";
}

TEST_F(MetricsServerTest, GarbageOversizedAndSlowRequestsAreClosedWithoutAnswer) {
  EXPECT_EQ(exchange("\x01\x02 not http\r\n\r\n"), "");
  EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n"), "");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\n"), "");  // never finishes its head
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(scrapes_, 0);
  // The server still serves after all that.
  EXPECT_NE(exchange("GET /metrics HTTP/1.1\r\n\r\n").find("mpx_test_scrapes 1\n"),
            std::string::npos);
}

TEST(MetricsServerBind, APortInUseIsOneLine) {
  asio::io_context io;
  tcp::acceptor taken(io, {asio::ip::make_address_v4("127.0.0.1"), 0});
  auto server = MetricsServer::create(io.get_executor(), taken.local_endpoint(),
                                      [] { return std::vector<MetricFamily>{}; });
  ASSERT_FALSE(server);
  EXPECT_NE(server.error().message.find("metrics endpoint: cannot listen on 127.0.0.1:"),
            std::string::npos)
      << server.error().message;
}

}  // namespace
}  // namespace mpx::metrics
