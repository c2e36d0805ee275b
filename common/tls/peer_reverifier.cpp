// PeerReverifier: a steady_timer loop whose handlers hold the shared State, so a handler that
// runs after cancel()/destruction (with operation_aborted or a raced expiry) sees `stopped` and
// leaves the SSL object alone.
#include "common/tls/peer_reverifier.hpp"

#include "common/tls/peer_check.hpp"

#include <utility>

namespace mpx::tls {

struct PeerReverifier::State {
  State(boost::asio::any_io_executor executor, SSL* connection,
        std::chrono::steady_clock::duration period, FailureHandler handler)
      : timer(std::move(executor)),
        ssl(connection),
        interval(period),
        on_failure(std::move(handler)) {}

  boost::asio::steady_timer timer;
  SSL* ssl;
  std::chrono::steady_clock::duration interval;
  FailureHandler on_failure;
  bool stopped = false;
};

PeerReverifier::PeerReverifier(boost::asio::any_io_executor executor, SSL* ssl,
                               std::chrono::steady_clock::duration interval,
                               FailureHandler on_failure)
    : state_(std::make_shared<State>(std::move(executor), ssl, interval, std::move(on_failure))) {}

PeerReverifier::~PeerReverifier() { cancel(); }

void PeerReverifier::start() {
  if (state_->stopped || state_->interval <= std::chrono::steady_clock::duration::zero()) {
    return;
  }
  schedule(state_);
}

void PeerReverifier::cancel() {
  state_->stopped = true;
  state_->timer.cancel();
}

void PeerReverifier::schedule(const std::shared_ptr<State>& state) {
  state->timer.expires_after(state->interval);
  state->timer.async_wait([state](const boost::system::error_code& error) {
    if (error || state->stopped) {
      return;
    }
    if (auto checked = recheck_peer(state->ssl); !checked) {
      state->stopped = true;
      // Moved out first: the handler may destroy the PeerReverifier (and with it nothing of
      // `state`, which this lambda keeps alive).
      auto handler = std::move(state->on_failure);
      handler(checked.error());
      return;
    }
    schedule(state);
  });
}

}  // namespace mpx::tls
