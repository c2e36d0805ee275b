// PidFile: written, locked against a second instance, removed on destruction.
#include "common/daemon/pid_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace {

TEST(PidFile, WritesOurPidAndRemovesTheFile) {
  mpx::test::TempDir dir;
  const auto path = dir.path() / "mpx.pid";
  {
    auto pid_file = mpx::daemon::PidFile::create(path);
    ASSERT_TRUE(pid_file.has_value()) << pid_file.error().message;
    std::ifstream in(path);
    pid_t written = 0;
    in >> written;
    EXPECT_EQ(written, getpid());
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(PidFile, SecondInstanceIsRefusedWithTheHoldersPid) {
  mpx::test::TempDir dir;
  const auto path = dir.path() / "mpx.pid";
  auto first = mpx::daemon::PidFile::create(path);
  ASSERT_TRUE(first.has_value());
  auto second = mpx::daemon::PidFile::create(path);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("another instance"), std::string::npos);
  EXPECT_NE(second.error().message.find(std::to_string(getpid())), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(path)) << "a refused second instance removed the file";
}

TEST(PidFile, UnwritableDirectoryIsAClearError) {
  auto pid_file = mpx::daemon::PidFile::create("/nonexistent-dir/mpx.pid");
  ASSERT_FALSE(pid_file.has_value());
  EXPECT_NE(pid_file.error().message.find("/nonexistent-dir/mpx.pid"), std::string::npos);
}

}  // namespace
