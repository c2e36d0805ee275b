// TlsPair and PkiCopy: the network and file plumbing shared by the common/tls tests.
#include "tests/unit/tls/tls_pair.hpp"

#include <boost/asio/connect.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/test_pki.hpp"

namespace mpx::tls::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

TlsPair::TlsPair(asio::ssl::context& server_context, asio::ssl::context& client_context)
    : server_(io_, server_context), client_(io_, client_context) {}

HandshakeResult TlsPair::handshake(std::chrono::milliseconds timeout) {
  HandshakeResult result;
  bool server_done = false;
  bool client_done = false;

  tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  acceptor.async_accept(server_.lowest_layer(), [&](const boost::system::error_code& error) {
    if (error) {
      result.server = error;
      server_done = true;
      return;
    }
    server_.async_handshake(asio::ssl::stream_base::server,
                            [&](const boost::system::error_code& handshake_error) {
                              result.server = handshake_error;
                              server_done = true;
                            });
  });
  client_.lowest_layer().async_connect(
      acceptor.local_endpoint(), [&](const boost::system::error_code& error) {
        if (error) {
          result.client = error;
          client_done = true;
          return;
        }
        client_.async_handshake(asio::ssl::stream_base::client,
                                [&](const boost::system::error_code& handshake_error) {
                                  result.client = handshake_error;
                                  client_done = true;
                                });
      });

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  io_.restart();
  while (!(server_done && client_done) && std::chrono::steady_clock::now() < deadline) {
    io_.run_one_until(deadline);
  }
  result.timed_out = !(server_done && client_done);
  if (result.timed_out) {
    // Abort whatever is still pending so no handler outlives this frame's captured locals.
    boost::system::error_code ignored;
    acceptor.close(ignored);
    server_.lowest_layer().close(ignored);
    client_.lowest_layer().close(ignored);
    io_.restart();
    io_.run_for(std::chrono::seconds(1));
  }
  io_.restart();
  return result;
}

PkiCopy::PkiCopy() : dir_("mpx-tls-pki") {
  for (const auto& entry : std::filesystem::directory_iterator(mpx::test::test_pki_dir())) {
    if (entry.is_regular_file()) {
      std::filesystem::copy_file(entry.path(), dir_.path() / entry.path().filename());
    }
  }
}

void PkiCopy::use(const std::string& from, const std::string& to) const {
  replace(to, read_text(mpx::test::test_pki_dir() / from));
}

void PkiCopy::replace(const std::string& to, const std::string& content) const {
  const auto temporary = dir_.path() / (to + ".new");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
      throw std::runtime_error("cannot write " + temporary.string());
    }
  }
  std::filesystem::rename(temporary, dir_.path() / to);
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + file.string());
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace mpx::tls::testing
