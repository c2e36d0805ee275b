// Wires SIGUSR1 to mpx::log::toggle_debug() on a daemon's io_context (MediaProxy operators send
// SIGUSR1 to switch DEBUG logging on and off without a restart).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/signal_set.hpp>

#include <memory>

namespace mpx::log {

// Keeps handling SIGUSR1 until the returned signal_set is destroyed or cancelled.
std::unique_ptr<boost::asio::signal_set> watch_debug_toggle(boost::asio::any_io_executor executor);

}  // namespace mpx::log
