// SIGUSR1 -> toggle_debug(), re-armed after every signal (see debug_toggle_signal.hpp).
#include "common/log/debug_toggle_signal.hpp"

#include <csignal>

#include "common/log/logging.hpp"

namespace mpx::log {
namespace {

void arm(boost::asio::signal_set& signals) {
  signals.async_wait([&signals](const boost::system::error_code& ec, int) {
    if (ec) {
      return;  // cancelled: the daemon is stopping
    }
    const auto level = toggle_debug();
    spdlog::log(spdlog::level::info, "SIGUSR1: log level is now {}",
                spdlog::level::to_string_view(level));
    arm(signals);
  });
}

}  // namespace

std::unique_ptr<boost::asio::signal_set> watch_debug_toggle(boost::asio::any_io_executor executor) {
  auto signals = std::make_unique<boost::asio::signal_set>(executor, SIGUSR1);
  arm(*signals);
  return signals;
}

}  // namespace mpx::log
