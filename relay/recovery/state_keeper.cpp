// The relay's state file kept in step with its sessions; see state_keeper.hpp.
#include "relay/recovery/state_keeper.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace mpx::relay::recovery {

StateKeeper::StateKeeper(boost::asio::any_io_executor executor, std::filesystem::path path,
                         std::chrono::milliseconds delay, Capture capture)
    : path_(std::move(path)),
      delay_(delay),
      capture_(std::move(capture)),
      timer_(std::move(executor)),
      alive_(std::make_shared<bool>(true)) {}

StateKeeper::~StateKeeper() {
  *alive_ = false;
  stop();
}

void StateKeeper::changed() {
  if (!enabled() || pending_) {
    return;
  }
  pending_ = true;
  timer_.expires_after(delay_);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (error || !*alive) {
      return;
    }
    pending_ = false;
    write_now();
  });
}

void StateKeeper::write_now() {
  if (!enabled()) {
    return;
  }
  if (pending_) {
    stop();
  }
  auto written = write_state_file(path_, capture_());
  if (!written) {
    if (written.error().message != last_error_) {
      spdlog::error("state file not written (a restart will not recover sessions): {}",
                    written.error().message);
      last_error_ = written.error().message;
    }
    return;
  }
  last_error_.clear();
}

void StateKeeper::stop() {
  timer_.cancel();
  pending_ = false;
}

}  // namespace mpx::relay::recovery
