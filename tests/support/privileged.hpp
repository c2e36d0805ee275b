// The one gate for tests that need root, a kernel feature or an external tool.
// Under CI=true a missing requirement is a FAILURE (CI must exercise everything); elsewhere the
// test is skipped with a message that says what is missing.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace mpx::test {

// True when the environment says we run under CI (CI=true, as .ci/run is started).
bool under_ci();

// Each returns "" when the requirement is met, otherwise a sentence naming what is missing.
std::string missing_root();                      // effective uid 0 with CAP_NET_ADMIN + CAP_SYS_ADMIN
std::string missing_tool(const std::string& tool);  // an executable in PATH
std::string missing_path(const std::string& path, const std::string& what);  // a file or /proc knob

}  // namespace mpx::test

// Use at the top of a TEST body or a fixture's SetUp(): MPX_REQUIRE(mpx::test::missing_root());
#define MPX_REQUIRE(missing_expr)                                                    \
  do {                                                                               \
    const std::string mpx_missing_ = (missing_expr);                                 \
    if (!mpx_missing_.empty()) {                                                     \
      if (::mpx::test::under_ci()) {                                                 \
        GTEST_FAIL() << "requirement not met under CI=true (must not skip): "        \
                     << mpx_missing_;                                                \
      } else {                                                                       \
        GTEST_SKIP() << "skipped: " << mpx_missing_;                                 \
      }                                                                              \
    }                                                                                \
  } while (0)
