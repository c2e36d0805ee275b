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
  if (before.rlim_cur == RLIM_INFINITY || before.rlim_max == RLIM_INFINITY ||
      before.rlim_cur >= before.rlim_max) {
    GTEST_SKIP() << "no room between the soft and the hard limit here";
  }
  const auto wanted = before.rlim_cur + 1;
  auto result = mpx::relay::system::raise_file_limit(wanted);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(current().rlim_cur, wanted);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
}

TEST(FileLimit, AnImpossibleLimitIsOneClearError) {
  // Far beyond fs.nr_open: even root cannot have it.
  auto result = mpx::relay::system::raise_file_limit(std::uint64_t{1} << 40);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("cannot raise the open file limit"), std::string::npos)
      << result.error().message;
}

}  // namespace
