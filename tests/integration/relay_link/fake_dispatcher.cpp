// FakeDispatcher and the test helpers (see fake_dispatcher.hpp). Plain completion handlers, no
// coroutines: each handler checks `alive_` so nothing runs against a destroyed fake.
#include "tests/integration/relay_link/fake_dispatcher.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>

#include "common/tls/context.hpp"
#include "tests/support/test_pki.hpp"

namespace mpx::relay::link::testing {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return done();
    }
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

void run_for(asio::io_context& io, std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
}

ssl::context dispatcher_server_context() {
  return tls::make_context(tls::Role::dispatcher, mpx::test::test_pki_dir());
}

ssl::context plain_server_context(const std::string& name) {
  const auto pki = mpx::test::test_pki_dir();
  ssl::context context(ssl::context::tls_server);
  context.use_certificate_chain_file((pki / (name + ".crt")).string());
  context.use_private_key_file((pki / (name + ".key")).string(), ssl::context::pem);
  context.set_verify_mode(ssl::verify_none);
  return context;
}

ssl::context relay_client_context() {
  return tls::make_context(tls::Role::relay, mpx::test::test_pki_dir());
}

FakeDispatcher::FakeDispatcher(asio::io_context& io, ssl::context& context, const std::string& ip)
    : io_(io), context_(context), acceptor_(io, tcp::endpoint(asio::ip::make_address(ip), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept();
}

FakeDispatcher::~FakeDispatcher() { stop(); }

void FakeDispatcher::stop() {
  *alive_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& connection : connections_) {
    connection->stream.lowest_layer().close(ignored);
    mark_closed(*connection);
  }
}

void FakeDispatcher::accept() {
  acceptor_.async_accept(
      [this, alive = alive_](const boost::system::error_code& error, tcp::socket socket) {
        if (!*alive || error) {
          return;
        }
        auto connection =
            std::make_shared<Connection>(ssl::stream<tcp::socket>(std::move(socket), context_));
        connection->accepted_at = Clock::now();
        connections_.push_back(connection);
        handshake(connection);
        accept();
      });
}

void FakeDispatcher::handshake(const std::shared_ptr<Connection>& connection) {
  connection->stream.async_handshake(
      ssl::stream_base::server,
      [this, alive = alive_, connection](const boost::system::error_code& error) {
        if (!*alive) {
          return;
        }
        if (error) {
          mark_closed(*connection);
          return;
        }
        connection->handshake_ok = true;
        read(connection);
      });
}

void FakeDispatcher::read(const std::shared_ptr<Connection>& connection) {
  connection->stream.async_read_some(
      asio::buffer(connection->buffer),
      [this, alive = alive_, connection](const boost::system::error_code& error, std::size_t n) {
        if (!*alive) {
          return;
        }
        if (error) {
          mark_closed(*connection);
          return;
        }
        connection->partial.append(connection->buffer.data(), n);
        std::size_t end = 0;
        while ((end = connection->partial.find("\r\n")) != std::string::npos) {
          std::string line = connection->partial.substr(0, end);
          connection->partial.erase(0, end + 2);
          if (line == "ping" && auto_pong) {
            connection->outbox.push_back("pong\r\n");
            write(connection);
          }
          connection->lines.push_back(std::move(line));
        }
        read(connection);
      });
}

void FakeDispatcher::write(const std::shared_ptr<Connection>& connection) {
  if (connection->writing || connection->outbox.empty() || connection->closed) {
    return;
  }
  connection->writing = true;
  asio::async_write(
      connection->stream, asio::buffer(connection->outbox.front()),
      [this, alive = alive_, connection](const boost::system::error_code& error, std::size_t) {
        if (!*alive) {
          return;
        }
        connection->writing = false;
        connection->outbox.pop_front();
        if (error) {
          mark_closed(*connection);
          return;
        }
        write(connection);
      });
}

void FakeDispatcher::mark_closed(Connection& connection) {
  if (!connection.closed) {
    connection.closed = true;
    connection.closed_at = Clock::now();
  }
}

std::size_t FakeDispatcher::handshakes() const {
  std::size_t count = 0;
  for (const auto& connection : connections_) {
    if (connection->handshake_ok) {
      ++count;
    }
  }
  return count;
}

std::shared_ptr<FakeDispatcher::Connection> FakeDispatcher::current() const {
  for (auto it = connections_.rbegin(); it != connections_.rend(); ++it) {
    if ((*it)->handshake_ok) {
      return *it;
    }
  }
  return nullptr;
}

std::vector<std::string> FakeDispatcher::all_lines() const {
  std::vector<std::string> lines;
  for (const auto& connection : connections_) {
    lines.insert(lines.end(), connection->lines.begin(), connection->lines.end());
  }
  return lines;
}

void FakeDispatcher::send(const std::string& bytes) {
  auto connection = current();
  if (!connection) {
    return;
  }
  connection->outbox.push_back(bytes);
  write(connection);
}

void FakeDispatcher::close_current() {
  if (auto connection = current()) {
    boost::system::error_code ignored;
    connection->stream.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    connection->stream.lowest_layer().close(ignored);
    mark_closed(*connection);
  }
}

}  // namespace mpx::relay::link::testing
