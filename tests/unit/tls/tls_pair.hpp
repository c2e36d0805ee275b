// TlsPair: one real TLS connection over 127.0.0.1 (ephemeral port) between a server and a client
// context, for the common/tls tests. Every wait is bounded; streams stay open for later checks.
// Also: PkiCopy, a private writable copy of the test PKI for tests that replace files.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include <chrono>
#include <filesystem>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace mpx::tls::testing {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

struct HandshakeResult {
  boost::system::error_code server;
  boost::system::error_code client;
  bool timed_out = false;
};

class TlsPair {
 public:
  TlsPair(boost::asio::ssl::context& server_context, boost::asio::ssl::context& client_context);

  // Accepts, connects and runs both handshakes; gives up after `timeout`.
  HandshakeResult handshake(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  SSL* server_ssl() { return server_.native_handle(); }
  SSL* client_ssl() { return client_.native_handle(); }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  TlsStream server_;
  TlsStream client_;
};

// The test PKI (tests/pki) copied into a private directory, usable as a certs_path.
class PkiCopy {
 public:
  PkiCopy();
  const std::filesystem::path& path() const { return dir_.path(); }
  std::filesystem::path file(const std::string& name) const { return dir_.path() / name; }
  // Copies the original PKI file `from` over `to` in this copy.
  void use(const std::string& from, const std::string& to) const;
  // Replaces `to` atomically (write + rename, so a reader sees the old or the new file).
  void replace(const std::string& to, const std::string& content) const;

 private:
  mpx::test::TempDir dir_;
};

std::string read_text(const std::filesystem::path& file);

}  // namespace mpx::tls::testing
