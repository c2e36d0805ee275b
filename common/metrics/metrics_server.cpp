// The scrape endpoint over Boost.Beast; see metrics_server.hpp.
#include "common/metrics/metrics_server.hpp"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>

#include "common/asio/spawn.hpp"

namespace mpx::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxHeader = 8 * 1024;

http::response<http::string_body> answer(const http::request<http::empty_body>& request,
                                         const MetricsServer::Collect& collect) {
  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(false);
  response.set(http::field::server, "mpx");
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    response.result(http::status::method_not_allowed);
    response.set(http::field::allow, "GET, HEAD");
    response.set(http::field::content_type, "text/plain");
    response.body() = "only GET /metrics\n";
  } else if (request.target() != "/metrics") {
    response.result(http::status::not_found);
    response.set(http::field::content_type, "text/plain");
    response.body() = "see /metrics\n";
  } else {
    response.result(http::status::ok);
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    if (request.method() == http::verb::get) {
      response.body() = render(collect());
    }
  }
  response.prepare_payload();
  return response;
}

}  // namespace

struct MetricsServer::State {
  State(asio::any_io_executor executor, Collect c, std::chrono::milliseconds t)
      : acceptor(executor), collect(std::move(c)), timeout(t) {}
  tcp::acceptor acceptor;
  Collect collect;
  std::chrono::milliseconds timeout;
  bool stopped = false;
};

namespace {

asio::awaitable<void> serve(std::shared_ptr<MetricsServer::State> state, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kMaxHeader);
  boost::system::error_code error;
  stream.expires_after(state->timeout);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
  if (error) {
    co_return;  // slow, oversized or malformed: nothing to answer
  }
  auto response = answer(parser.get(), state->collect);
  stream.expires_after(state->timeout);
  co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, error));
  stream.socket().shutdown(tcp::socket::shutdown_both, error);
}

asio::awaitable<void> accept_loop(std::shared_ptr<MetricsServer::State> state) {
  while (!state->stopped) {
    boost::system::error_code error;
    tcp::socket socket = co_await state->acceptor.async_accept(
        asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      if (state->stopped || error == asio::error::operation_aborted) {
        co_return;
      }
      spdlog::warn("metrics endpoint: accept failed: {}", error.message());
      continue;
    }
    const auto executor = state->acceptor.get_executor();
    asio_util::spawn(executor, serve(state, std::move(socket)), "metrics scrape");
  }
}

}  // namespace

Result<std::unique_ptr<MetricsServer>> MetricsServer::create(asio::any_io_executor executor,
                                                             const tcp::endpoint& listen,
                                                             Collect collect,
                                                             std::chrono::milliseconds timeout) {
  auto state = std::make_shared<State>(executor, std::move(collect), timeout);
  boost::system::error_code error;
  state->acceptor.open(listen.protocol(), error);
  if (!error) {
    state->acceptor.set_option(asio::socket_base::reuse_address(true), error);
  }
  if (!error) {
    state->acceptor.bind(listen, error);
  }
  if (!error) {
    state->acceptor.listen(asio::socket_base::max_listen_connections, error);
  }
  if (error) {
    return Error{"metrics endpoint: cannot listen on " + listen.address().to_string() + ":" +
                 std::to_string(listen.port()) + ": " + error.message()};
  }
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(state)));
}

MetricsServer::MetricsServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() {
  asio_util::spawn(state_->acceptor.get_executor(), accept_loop(state_), "metrics endpoint");
}

void MetricsServer::stop() {
  if (state_->stopped) {
    return;
  }
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

tcp::endpoint MetricsServer::local_endpoint() const {
  boost::system::error_code ignored;
  return state_->acceptor.local_endpoint(ignored);
}

}  // namespace mpx::metrics
