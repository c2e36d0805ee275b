// relay/system/file_limit: RLIMIT_NOFILE is raised to fit the port range, never lowered.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include "relay/system/file_limit.hpp"

namespace {

rlimit current() {
  rlimit limit{};
  EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  return limit;
}

TEST(FileLimit, NeverLowersTheSoftLimit) {
  const auto before = current();
  auto result = mpx::relay::system::raise_file_limit(16);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(current().rlim_cur, before.rlim_cur);
}

TEST(FileLimit, RaisesTheSoftLimitWithinTheHardOne) {
  const auto before = current();
  // Lowering the soft limit is always allowed: make room below the hard limit first.
  rlimit lowered = before;
  lowered.rlim_cur = 512;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  auto result = mpx::relay::system::raise_file_limit(600);
  const auto after = current();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result.value(), 600U);
  EXPECT_EQ(after.rlim_cur, 600U);
  EXPECT_EQ(after.rlim_max, before.rlim_max);
}

TEST(FileLimit, AnImpossibleLimitIsOneClearError) {
  // Far beyond fs.nr_open: even root cannot have it.
  auto result = mpx::relay::system::raise_file_limit(std::uint64_t{1} << 40);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("cannot raise the open file limit"), std::string::npos)
      << result.error().message;
}

}  // namespace
