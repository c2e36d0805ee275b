// DatagramRpcClient: JSON-RPC 2.0 over UNIX datagram sockets, the transport of OpenSIPS's
// mi_datagram and Kamailio's jsonrpcs `dgram_socket`. Both servers answer to the sender's address,
// so the client binds its own reply socket (compat spec 6.6: <runtime_dir>/opensips.sock).
//
// Each call sends one datagram {"jsonrpc": "2.0", "id": "<random 32-bit lowercase hex>",
// "method": ..., "params": ...} (Python json.dumps spacing, as MediaProxy) and completes exactly
// once: with the reply whose "id" matches, with the error of a plain "<code> <message>" datagram
// when exactly one call is pending (old OpenSIPS MI error form), with a timeout, or with a local
// failure (send error, client closed). Garbage and unmatched replies are logged and dropped.
//
// Non-blocking, asio-based; every socket operation and callback runs on an internal strand, so
// call() may be used from any thread. The owner must call close() when done (the pending
// operations keep the client alive until then).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.hpp"

namespace mpx::dispatcher {

struct RpcOutcome {
  enum class Kind {
    result,   // the peer answered with "result"
    error,    // the peer answered with "error" (or a plain "<code> <message>" datagram)
    timeout,  // no answer within the reply timeout
    failure,  // not sent (socket error) or the client was closed
  };
  Kind kind = Kind::failure;
  nlohmann::json result;             // Kind::result
  std::optional<std::int64_t> code;  // Kind::error, when the peer gave a numeric code
  std::string message;               // Kind::error/timeout/failure: a one-line reason
};

// "result", "error 404 Requested Dialog not found", "timed out after 3000 ms", ...
std::string describe(const RpcOutcome& outcome);

// The plain error datagram of OpenSIPS's old MI: "<code> <message>" (digits, one space, text).
std::optional<std::pair<std::int64_t, std::string>> parse_plain_error(std::string_view datagram);

class DatagramRpcClient : public std::enable_shared_from_this<DatagramRpcClient> {
 public:
  using Callback = std::function<void(const RpcOutcome&)>;

  struct Settings {
    std::string peer_name;                // for log lines: "OpenSIPS", "Kamailio"
    std::filesystem::path server_socket;  // where requests go
    std::filesystem::path reply_socket;   // bound by us; a stale socket file is replaced
    std::chrono::milliseconds reply_timeout{3000};
  };

  // Binds the reply socket. Errors (one line): path too long for a UNIX socket, path exists and
  // is not a socket, bind failure.
  static Result<std::shared_ptr<DatagramRpcClient>> open(boost::asio::any_io_executor executor,
                                                         Settings settings);

  DatagramRpcClient(const DatagramRpcClient&) = delete;
  DatagramRpcClient& operator=(const DatagramRpcClient&) = delete;
  ~DatagramRpcClient();

  void call(std::string method, nlohmann::ordered_json params, Callback callback);

  // Fails pending calls ("client closed"), closes the socket and removes the reply socket file.
  // Idempotent.
  void close();

  const Settings& settings() const { return settings_; }

 private:
  struct Pending {
    std::unique_ptr<boost::asio::steady_timer> timer;
    Callback callback;
  };
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;

  DatagramRpcClient(boost::asio::any_io_executor executor, Settings settings);
  void start_receive();
  void on_datagram(std::string_view datagram);
  void send(std::string method, nlohmann::ordered_json params, Callback callback);
  void complete(const std::string& id, const RpcOutcome& outcome);
  std::string new_id();
  void close_on_strand();

  Settings settings_;
  Strand strand_;
  boost::asio::local::datagram_protocol::socket socket_;
  std::array<char, 65536> receive_buffer_{};
  std::unordered_map<std::string, Pending> pending_;
  std::mt19937 random_;
  bool closed_ = false;
  std::atomic<bool> unlinked_{false};
};

}  // namespace mpx::dispatcher
