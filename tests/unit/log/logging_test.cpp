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
