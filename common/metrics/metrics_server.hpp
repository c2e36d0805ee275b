// MetricsServer: the Prometheus scrape endpoint of a daemon. HTTP/1.1 through Boost.Beast:
// `GET /metrics` answers the text format (exposition.hpp) built by the collect callback at
// scrape time, on the daemon's executor (so it reads the daemon's state without locks); other
// paths 404, other methods 405. One request per connection (Connection: close), a request head
// larger than 8 KiB or slower than the timeout closes the connection. Plain HTTP: bind it to
// loopback or a management network (the [Relay]/[Dispatcher] listen_metrics option).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "common/metrics/exposition.hpp"
#include "common/result.hpp"

namespace mpx::metrics {

class MetricsServer {
 public:
  using Collect = std::function<std::vector<MetricFamily>()>;

  // Binds and listens; error "metrics endpoint: cannot listen on IP:PORT: ..." (one line).
  static Result<std::unique_ptr<MetricsServer>> create(
      boost::asio::any_io_executor executor, const boost::asio::ip::tcp::endpoint& listen,
      Collect collect, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void start();
  void stop();  // closes the listener; scrapes in progress finish; idempotent
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  struct State;  // shared with the connection coroutines (metrics_server.cpp)

 private:
  explicit MetricsServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace mpx::metrics
