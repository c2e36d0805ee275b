// ManagementClient (see management_client.hpp): asynchronous Asio operations driven by a private
// io_context with run_for(), which is what gives a blocking client its timeouts.
#include "tools/mpxctl/management_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <exception>
#include <utility>

namespace mpx::mpxctl {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct ManagementClient::Impl {
  explicit Impl(const ClientSettings& settings_in) : settings(settings_in) {
    peer = settings.host.find(':') != std::string::npos
               ? fmt::format("[{}]:{}", settings.host, settings.port)
               : fmt::format("{}:{}", settings.host, settings.port);
  }

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

  void close() {
    error_code ignored;
    socket().close(ignored);
  }

  // Starts one operation (`start` receives a completion callback taking the error code) and runs
  // the io_context until it completes or the timeout passes; on timeout the socket is closed so
  // the operation finishes (aborted) before we return. A resolve is cancelled on the resolver.
  template <class Start>
  error_code wait(Start&& start, tcp::resolver* resolver = nullptr) {
    bool done = false;
    error_code result;
    start([&done, &result](const error_code& ec) {
      done = true;
      result = ec;
    });
    io.restart();
    io.run_for(settings.timeout);
    if (!done) {
      if (resolver != nullptr) {
        resolver->cancel();
      }
      close();
      io.restart();
      io.run();
      return asio::error::timed_out;
    }
    return result;
  }

  std::string describe(const error_code& ec) const {
    if (ec == asio::error::timed_out) {
      return fmt::format("timed out after {} ms", settings.timeout.count());
    }
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      return "the dispatcher closed the connection";
    }
    return ec.message();
  }

  // A dispatcher that drops the connection before its first answer usually did so on purpose:
  // TLS 1.3 reports a refused client certificate only after the client's handshake completed,
  // and a TLS listener drops a plain-text command.
  std::string first_failure_hint(const error_code& ec) const {
    if (answered || ec == asio::error::timed_out) {
      return "";
    }
    return tls ? " (was the client certificate refused? see the dispatcher's log)"
               : " (does the management interface use TLS? try --tls)";
  }

  ClientSettings settings;
  std::string peer;
  asio::io_context io;
  std::optional<ssl::context> tls_context;
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  std::unique_ptr<tcp::socket> plain;
  std::string buffer;
  bool answered = false;  // a command was answered on this connection
};

ManagementClient::ManagementClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ManagementClient::~ManagementClient() {
  if (impl_) {
    impl_->close();
  }
}

const std::string& ManagementClient::peer() const { return impl_->peer; }

Result<std::unique_ptr<ManagementClient>> ManagementClient::connect(
    const ClientSettings& settings) {
  auto impl = std::make_unique<Impl>(settings);
  if (settings.tls) {
    try {
      impl->tls_context.emplace(tls::make_client_context(*settings.tls));
    } catch (const std::exception& e) {
      return Error{fmt::format("TLS set-up failed: {}", e.what())};
    }
    impl->tls = std::make_unique<ssl::stream<tcp::socket>>(impl->io, *impl->tls_context);
  } else {
    impl->plain = std::make_unique<tcp::socket>(impl->io);
  }

  tcp::resolver resolver(impl->io);
  tcp::resolver::results_type endpoints;
  auto ec = impl->wait([&](auto done) {
    resolver.async_resolve(settings.host, std::to_string(settings.port),
                           asio::ip::resolver_base::numeric_service,
                           [&endpoints, done](const error_code& resolve_ec,
                                              tcp::resolver::results_type results) {
                             endpoints = std::move(results);
                             done(resolve_ec);
                           });
  }, &resolver);
  if (ec) {
    return Error{fmt::format("cannot resolve {}: {}", settings.host, impl->describe(ec))};
  }

  ec = impl->wait([&](auto done) {
    asio::async_connect(impl->socket(), endpoints,
                        [done](const error_code& connect_ec, const tcp::endpoint&) {
                          done(connect_ec);
                        });
  });
  if (ec) {
    return Error{fmt::format("cannot connect to {}: {}", impl->peer, impl->describe(ec))};
  }

  if (impl->tls) {
    ec = impl->wait([&](auto done) {
      impl->tls->async_handshake(ssl::stream_base::client, done);
    });
    if (ec) {
      return Error{
          fmt::format("TLS handshake with {} failed: {}", impl->peer, impl->describe(ec))};
    }
  }
  return std::unique_ptr<ManagementClient>(new ManagementClient(std::move(impl)));
}

Result<std::string> ManagementClient::command(std::string_view command) {
  Impl& c = *impl_;
  const std::string request = std::string(command) + "\r\n";
  auto ec = c.wait([&](auto done) {
    auto written = [done](const error_code& write_ec, std::size_t) { done(write_ec); };
    if (c.tls) {
      asio::async_write(*c.tls, asio::buffer(request), written);
    } else {
      asio::async_write(*c.plain, asio::buffer(request), written);
    }
  });
  if (ec) {
    return Error{fmt::format("cannot send '{}' to {}: {}{}", command, c.peer, c.describe(ec),
                             c.first_failure_hint(ec))};
  }

  std::size_t line_size = 0;
  ec = c.wait([&](auto done) {
    auto read = [&line_size, done](const error_code& read_ec, std::size_t size) {
      line_size = size;
      done(read_ec);
    };
    auto buffer = asio::dynamic_buffer(c.buffer, c.settings.max_answer_size);
    if (c.tls) {
      asio::async_read_until(*c.tls, buffer, "\r\n", read);
    } else {
      asio::async_read_until(*c.plain, buffer, "\r\n", read);
    }
  });
  if (ec == asio::error::not_found) {
    return Error{fmt::format("no answer to '{}' from {}: the answer exceeds {} bytes", command,
                             c.peer, c.settings.max_answer_size)};
  }
  if (ec) {
    return Error{fmt::format("no answer to '{}' from {}: {}{}", command, c.peer, c.describe(ec),
                             c.first_failure_hint(ec))};
  }
  c.answered = true;
  std::string line = c.buffer.substr(0, line_size - 2);
  c.buffer.erase(0, line_size);
  return line;
}

}  // namespace mpx::mpxctl
