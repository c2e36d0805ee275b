// PeerReverifier: runs recheck_peer() on one connection every verify_interval (spec 3.1) on the
// connection's executor and reports the first failure to the owner, who closes the connection.
// Use it from the executor's thread (or strand); destroying it or cancel() stops it, and after that
// neither the SSL object nor the callback is touched again.
#pragma once

#include "common/result.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>

namespace mpx::tls {

class PeerReverifier {
 public:
  using FailureHandler = std::function<void(const Error&)>;

  // `ssl` must stay valid until this object is cancelled or destroyed. `on_failure` is called at
  // most once, on `executor`; the periodic checks stop after it.
  PeerReverifier(boost::asio::any_io_executor executor, SSL* ssl,
                 std::chrono::steady_clock::duration interval, FailureHandler on_failure);
  ~PeerReverifier();
  PeerReverifier(const PeerReverifier&) = delete;
  PeerReverifier& operator=(const PeerReverifier&) = delete;

  // Starts the timer loop; the first check runs one interval from now. A zero or negative
  // interval disables the checks (start() does nothing).
  void start();
  // Stops the checks; idempotent.
  void cancel();

 private:
  struct State;
  static void schedule(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
};

}  // namespace mpx::tls
