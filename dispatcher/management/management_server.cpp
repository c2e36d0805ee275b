// ManagementServer (see management_server.hpp): one accept loop and one coroutine per connection,
// all on one strand, so connection bookkeeping needs no locks.
#include "dispatcher/management/management_server.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <exception>
#include <functional>
#include <set>
#include <string>
#include <utility>

#include "common/protocol/line_framer.hpp"
#include "common/tls/context.hpp"
#include "common/tls/peer_check.hpp"
#include "common/tls/peer_reverifier.hpp"
#include "common/tls/x509_text.hpp"
#include "common/version.hpp"
#include "dispatcher/management/management_commands.hpp"

namespace mpx::dispatcher {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

std::string endpoint_text(const tcp::endpoint& endpoint) {
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

// One connection as the server sees it, to close it on stop().
struct Connection {
  std::function<void()> close;  // empty once the connection's coroutine has finished
  bool busy = false;            // waiting for the backend or writing an answer
  bool stopping = false;
};

}  // namespace

struct ManagementServer::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor executor, ManagementServerSettings settings_in,
        ManagementBackend& backend_in)
      : settings(std::move(settings_in)),
        backend(backend_in),
        strand(asio::make_strand(std::move(executor))),
        acceptor(strand) {}

  awaitable<void> accept_loop();
  awaitable<void> serve(tcp::socket socket);
  template <class Stream>
  awaitable<void> serve_lines(Stream& stream, Connection& connection, const std::string& peer);
  awaitable<std::string> answer(ManagementCommand command, const std::string& peer);
  void stop_on_strand();

  ManagementServerSettings settings;
  ManagementBackend& backend;
  asio::strand<asio::any_io_executor> strand;
  tcp::acceptor acceptor;
  tcp::endpoint bound;
  std::optional<ssl::context> tls_context;
  std::set<std::shared_ptr<Connection>> connections;
  bool started = false;
  bool stopped = false;
};

Result<std::unique_ptr<ManagementServer>> ManagementServer::create(
    asio::any_io_executor executor, ManagementServerSettings settings,
    ManagementBackend& backend) {
  auto state = std::make_shared<State>(std::move(executor), std::move(settings), backend);
  if (state->settings.use_tls) {
    try {
      state->tls_context.emplace(
          tls::make_context(tls::Role::management_server, state->settings.certs_path));
    } catch (const std::exception& e) {
      return Error{fmt::format("management interface: {}", e.what())};
    }
  }
  boost::system::error_code ec;
  const auto& listen = state->settings.listen;
  state->acceptor.open(listen.protocol(), ec);
  if (!ec) {
    state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    state->acceptor.bind(listen, ec);
  }
  if (!ec) {
    state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    state->bound = state->acceptor.local_endpoint(ec);
  }
  if (ec) {
    return Error{fmt::format("management interface: cannot listen on {}: {}",
                             endpoint_text(listen), ec.message())};
  }
  return std::unique_ptr<ManagementServer>(new ManagementServer(std::move(state)));
}

ManagementServer::ManagementServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

ManagementServer::~ManagementServer() { stop(); }

tcp::endpoint ManagementServer::local_endpoint() const { return state_->bound; }

void ManagementServer::start() {
  asio::post(state_->strand, [state = state_] {
    if (state->started || state->stopped) {
      return;
    }
    state->started = true;
    spdlog::info("management interface listening on {} ({})", endpoint_text(state->bound),
                 state->settings.use_tls ? "TLS" : "plain TCP");
    asio::co_spawn(state->strand, state->accept_loop(), asio::detached);
  });
}

void ManagementServer::stop() {
  asio::post(state_->strand, [state = state_] { state->stop_on_strand(); });
}

void ManagementServer::State::stop_on_strand() {
  if (stopped) {
    return;
  }
  stopped = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  for (const auto& connection : connections) {
    connection->stopping = true;
    if (!connection->busy && connection->close) {
      connection->close();
    }
  }
}

awaitable<void> ManagementServer::State::accept_loop() {
  auto self = shared_from_this();
  while (!stopped) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (stopped) {
      break;
    }
    if (ec) {
      spdlog::warn("management interface: accept failed: {}", ec.message());
      // A transient failure (e.g. out of descriptors) must not spin.
      asio::steady_timer pause(strand, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    asio::co_spawn(strand, serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> ManagementServer::State::serve(tcp::socket socket) {
  auto self = shared_from_this();
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string peer = ec ? std::string("unknown peer") : endpoint_text(remote);
  auto connection = std::make_shared<Connection>();
  connection->stopping = stopped;
  connections.insert(connection);

  if (!tls_context) {
    connection->close = [&socket] {
      boost::system::error_code ignored;
      socket.close(ignored);
    };
    spdlog::info("management connection from {}", peer);
    if (!connection->stopping) {
      co_await serve_lines(socket, *connection, peer);
    }
  } else {
    ssl::stream<tcp::socket> stream(std::move(socket), *tls_context);
    connection->close = [&stream] {
      boost::system::error_code ignored;
      stream.lowest_layer().close(ignored);
    };
    asio::steady_timer deadline(strand, settings.handshake_timeout);
    deadline.async_wait([connection](const boost::system::error_code& timer_ec) {
      if (!timer_ec && connection->close) {
        connection->close();
      }
    });
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(use_awaitable, ec));
    deadline.cancel();
    if (ec) {
      spdlog::warn("management connection from {} refused: TLS handshake failed: {}", peer,
                   ec.message());
    } else if (auto checked = tls::check_peer(stream.native_handle(), settings.passport);
               !checked) {
      spdlog::warn("management connection from {} refused: {}", peer, checked.error().message);
    } else if (!connection->stopping) {
      spdlog::info("management connection from {} ({})", peer,
                   tls::subject_line(SSL_get0_peer_certificate(stream.native_handle())));
      tls::PeerReverifier reverifier(
          strand, stream.native_handle(), settings.verify_interval,
          [connection, peer](const Error& error) {
            spdlog::warn("management connection from {} closed: {}", peer, error.message);
            if (connection->close) {
              connection->close();
            }
          });
      reverifier.start();
      co_await serve_lines(stream, *connection, peer);
      reverifier.cancel();
    }
    connection->close();
    connection->close = nullptr;  // `stream` ends with this scope
  }
  if (connection->close) {
    connection->close();
    connection->close = nullptr;
  }
  connections.erase(connection);
}

awaitable<std::string> ManagementServer::State::answer(ManagementCommand command,
                                                       const std::string& peer) {
  try {
    switch (command) {
      case ManagementCommand::sessions:
        co_return co_await backend.sessions_json();
      case ManagementCommand::summary:
        co_return co_await backend.summary_json();
      case ManagementCommand::version:
        co_return std::string(kVersion);
      case ManagementCommand::quit:
      case ManagementCommand::unknown:
        break;
    }
  } catch (const std::exception& e) {
    spdlog::error("management command from {} failed: {}", peer, e.what());
  }
  co_return std::string("error");
}

template <class Stream>
awaitable<void> ManagementServer::State::serve_lines(Stream& stream, Connection& connection,
                                                     const std::string& peer) {
  protocol::LineFramer framer(settings.max_line_length);
  std::array<char, 4096> buffer{};
  boost::system::error_code ec;
  for (;;) {
    for (;;) {
      auto line = framer.next_line();
      if (!line) {
        spdlog::warn("management connection from {} closed: {}", peer, line.error().message);
        co_return;
      }
      if (!line.value()) {
        break;
      }
      const auto command = parse_management_command(*line.value());
      if (command == ManagementCommand::quit) {
        co_return;
      }
      connection.busy = true;
      std::string reply = co_await answer(command, peer);
      reply += "\r\n";
      co_await asio::async_write(stream, asio::buffer(reply),
                                 asio::redirect_error(use_awaitable, ec));
      connection.busy = false;
      if (ec || connection.stopping) {
        co_return;
      }
    }
    if (connection.stopping) {
      co_return;
    }
    const std::size_t size = co_await stream.async_read_some(
        asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
    if (ec) {
      co_return;  // peer closed, or stop() closed an idle connection
    }
    framer.feed(std::string_view(buffer.data(), size));
  }
}

}  // namespace mpx::dispatcher
