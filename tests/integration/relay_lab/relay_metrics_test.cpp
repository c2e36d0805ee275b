// The relay's Prometheus endpoint ([Relay] listen_metrics) during a real call: the scrape shows
// the live session, its stream, the hand-off to the datapath and the dispatcher link, and after
// the call the session is gone. Runs once per datapath.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <string>

#include "tests/integration/relay_lab/relay_lab_fixture.hpp"

namespace mpx::test::relay_lab {
namespace {

class RelayMetricsTest : public RelayLabTest {};

// GET /metrics from inside the relay namespace.
std::string scrape(const NetnsLab& lab) {
  std::string response;
  lab.in_ns("relay", [&] {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    boost::system::error_code error;
    socket.connect({boost::asio::ip::make_address_v4("127.0.0.1"), 25063}, error);
    if (error) {
      response = "connect failed: " + error.message();
      return;
    }
    boost::asio::write(socket, boost::asio::buffer(std::string("GET /metrics HTTP/1.0\r\n\r\n")),
                       error);
    boost::asio::read(socket, boost::asio::dynamic_buffer(response), error);
  });
  return response;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST_P(RelayMetricsTest, ScrapeShowsTheCallAndItsHandOff) {
  RelaySettings settings;
  settings.listen_metrics = "127.0.0.1";
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, settings));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-metrics@10.1.0.10");
  RelayPorts ports;
  ASSERT_TRUE(establish(*call, ends, ports));
  exchange(ends, ports, {60, 0});
  ASSERT_GE(ends.callee_rtp.wait_from(relay_side(ports.callee_side), 50,
                                      std::chrono::seconds(3)),
            50U);

  const auto during = scrape(env_->lab());
  ASSERT_EQ(during.rfind("HTTP/1.0 200 OK", 0), 0U) << during;
  EXPECT_TRUE(has_line(during, "mpx_relay_sessions 1")) << during;
  EXPECT_TRUE(has_line(during, "mpx_relay_streams{media_type=\"audio\"} 1")) << during;
  EXPECT_TRUE(has_line(during, "mpx_relay_dispatchers_connected 1")) << during;
  const std::string flows = "mpx_relay_datapath_flows{datapath=\"" + config_datapath(GetParam());
  EXPECT_TRUE(has_line(during, flows + "\"} 1"))
      << during;
  EXPECT_TRUE(has_line(during, "mpx_relay_handoffs_total{outcome=\"installed\"} 1")) << during;
  EXPECT_TRUE(has_line(during, "mpx_relay_requests_total{command=\"update\",outcome=\"ok\"} 2"))
      << during;
  if (is_ebpf(GetParam())) {
    EXPECT_NE(during.find("mpx_relay_bpf_verdicts_total{verdict="), std::string::npos) << during;
  } else {
    EXPECT_EQ(during.find("mpx_relay_bpf_verdicts_total"), std::string::npos) << during;
  }

  ASSERT_TRUE(call->remove()) << call->last_reply();
  const auto after = scrape(env_->lab());
  EXPECT_TRUE(has_line(after, "mpx_relay_sessions 0")) << after;
  EXPECT_TRUE(has_line(after, flows + "\"} 0"))
      << after;
  EXPECT_TRUE(has_line(after, "mpx_relay_requests_total{command=\"remove\",outcome=\"ok\"} 1"))
      << after;
}

INSTANTIATE_TEST_SUITE_P(Datapaths, RelayMetricsTest, all_datapaths(),
                         datapath_name);

}  // namespace
}  // namespace mpx::test::relay_lab
