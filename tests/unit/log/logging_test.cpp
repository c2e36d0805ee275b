// The SIGUSR1 debug toggle: DEBUG <-> the configured level, and always a change.
#include "common/log/logging.hpp"

#include <gtest/gtest.h>

namespace {

TEST(Logging, ToggleSwitchesBetweenDebugAndConfiguredLevel) {
  mpx::log::init({mpx::log::Sink::kConsole, "test", spdlog::level::warn});
  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);
  EXPECT_EQ(mpx::log::toggle_debug(), spdlog::level::debug);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  EXPECT_EQ(mpx::log::toggle_debug(), spdlog::level::warn);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);
}

TEST(Logging, ToggleFromConfiguredDebugGoesToInfo) {
  mpx::log::init({mpx::log::Sink::kSystemd, "test", spdlog::level::debug});
  EXPECT_EQ(mpx::log::toggle_debug(), spdlog::level::info);
  EXPECT_EQ(mpx::log::toggle_debug(), spdlog::level::debug);
}

TEST(Logging, SetConfiguredLevelIsWhatTheToggleReturnsTo) {
  mpx::log::init({mpx::log::Sink::kConsole, "test", spdlog::level::info});
  mpx::log::set_configured_level(spdlog::level::err);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::err);
  mpx::log::toggle_debug();
  EXPECT_EQ(mpx::log::toggle_debug(), spdlog::level::err);
}

}  // namespace

#include <boost/asio/io_context.hpp>

#include <csignal>

#include "common/log/debug_toggle_signal.hpp"

namespace {

TEST(Logging, Sigusr1TogglesDebugOnTheIoContext) {
  mpx::log::init({mpx::log::Sink::kConsole, "test", spdlog::level::info});
  boost::asio::io_context io;
  auto watch = mpx::log::watch_debug_toggle(io.get_executor());
  // The signal reaches the handler through asio's internal pipe: run until the level changes,
  // bounded to one second.
  const auto run_until = [&io](spdlog::level::level_enum wanted) {
    for (int i = 0; i < 100 && spdlog::get_level() != wanted; ++i) {
      io.run_one_for(std::chrono::milliseconds(10));
    }
  };
  std::raise(SIGUSR1);
  run_until(spdlog::level::debug);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  std::raise(SIGUSR1);
  run_until(spdlog::level::info);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
}

}  // namespace
