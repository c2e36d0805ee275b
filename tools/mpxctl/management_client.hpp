// ManagementClient: mpxctl's blocking client of mpx-dispatcher's management interface (compat
// spec 4): plain TCP or TLS with a client certificate, one command per "\r\n" line, one answer
// line back. Every step (resolve, connect, handshake, each answer) is bounded by a timeout so an
// unresponsive dispatcher never hangs the operator's terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/tls/context.hpp"

namespace mpx::mpxctl {

struct ClientSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 25061;
  std::optional<tls::CredentialFiles> tls;  // nullopt: plain TCP
  std::chrono::milliseconds timeout{5000};  // per step
  // A `sessions` answer of a busy dispatcher is large, but an endless line is a broken peer.
  std::size_t max_answer_size = std::size_t{256} * 1024 * 1024;
};

class ManagementClient {
 public:
  // Resolves, connects and (with TLS) loads the credentials and handshakes. Errors are one line,
  // e.g. "cannot connect to 127.0.0.1:25061: Connection refused".
  static Result<std::unique_ptr<ManagementClient>> connect(const ClientSettings& settings);
  ~ManagementClient();
  ManagementClient(const ManagementClient&) = delete;
  ManagementClient& operator=(const ManagementClient&) = delete;

  // Sends `command` + "\r\n" and returns the answer line without its "\r\n".
  Result<std::string> command(std::string_view command);

  // "host:port" as used in error messages ("[::1]:25061" for IPv6 literals).
  const std::string& peer() const;

 private:
  struct Impl;
  explicit ManagementClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mpx::mpxctl
