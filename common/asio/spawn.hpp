// spawn(): co_spawn a coroutine detached, logging (never rethrowing) an exception that escapes
// it, so one broken connection cannot take a daemon down. Shared by both daemons.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include <spdlog/spdlog.h>

#include <exception>
#include <string>

namespace mpx::asio_util {

template <class Executor>
void spawn(Executor executor, boost::asio::awaitable<void> task, std::string what) {
  boost::asio::co_spawn(std::move(executor), std::move(task),
                        [what = std::move(what)](std::exception_ptr error) {
                          if (!error) {
                            return;
                          }
                          try {
                            std::rethrow_exception(error);
                          } catch (const std::exception& e) {
                            spdlog::error("{}: unexpected failure: {}", what, e.what());
                          } catch (...) {
                            spdlog::error("{}: unexpected failure", what);
                          }
                        });
}

}  // namespace mpx::asio_util
