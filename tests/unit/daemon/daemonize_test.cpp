// daemonize(): the original process exits with the daemon's start-up report.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

// The daemon writes its file after the parent may already have returned: wait briefly for it.
std::string read_when_present(const std::filesystem::path& file) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(file);
    std::string line;
    if (std::getline(in, line) && !line.empty()) {
      return line;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {};
}

TEST(Daemonize, ParentExitsZeroWhenTheDaemonIsReady) {
  mpx::test::TempDir dir;
  const auto file = dir.path() / "pid";
  const auto result = mpx::test::run({MPX_DAEMONIZE_PROBE_BIN, "ready", file.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  const auto line = read_when_present(file);
  ASSERT_FALSE(line.empty());
  std::istringstream fields(line);
  pid_t pid = 0;
  pid_t sid = 0;
  fields >> pid >> sid;
  EXPECT_NE(sid, getsid(0)) << "the daemon did not leave the caller's session";
  EXPECT_NE(pid, sid) << "the daemon is a session leader and could acquire a terminal";
  EXPECT_NE(pid, getpid());
}

TEST(Daemonize, ParentPrintsTheDaemonsFailureAndExitsOne) {
  mpx::test::TempDir dir;
  const auto result =
      mpx::test::run({MPX_DAEMONIZE_PROBE_BIN, "fail", (dir.path() / "pid").string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "daemonize_probe: cannot bind 0.0.0.0:25060: Address already in use\n");
}

}  // namespace
