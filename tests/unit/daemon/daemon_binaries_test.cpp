// The built daemons at start-up: a broken configuration stops them with ONE clear line naming the
// file, section, option and what is accepted, and a non-zero status (issue: foundation, "done
// when"); a good one is accepted.
#include <gtest/gtest.h>

#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

struct Daemon {
  const char* name;
  const char* binary;
};

class DaemonBinaries : public testing::TestWithParam<Daemon> {};

TEST_P(DaemonBinaries, BrokenConfigIsOneClearLineAndNonZeroExit) {
  mpx::test::TempDir dir;
  const auto file = dir.write("config.ini", "[Relay]\nrelay_ip = 203.0.113.1\nport_range = 40001:60000\n");
  const auto result =
      mpx::test::run({GetParam().binary, "--config-dir", dir.path().string(), "--no-fork"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(result.err.rfind(std::string(GetParam().name) + ": ", 0), 0U) << result.err;
  for (const std::string& part : {file.string() + ":3", std::string("[Relay]"),
                                  std::string("port_range"), std::string("accepted")}) {
    EXPECT_NE(result.err.find(part), std::string::npos) << "missing '" << part << "' in "
                                                        << result.err;
  }
}

TEST_P(DaemonBinaries, UnknownOptionNamesTheAcceptedOnes) {
  mpx::test::TempDir dir;
  dir.write("config.ini", "[Dispatcher]\nrelay_timout = 5\n");
  const auto result =
      mpx::test::run({GetParam().binary, "--config-dir", dir.path().string(), "--no-fork"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("relay_timout"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("relay_timeout"), std::string::npos) << result.err;
}

TEST_P(DaemonBinaries, MissingConfigDirectoryIsAnError) {
  const auto result = mpx::test::run(
      {GetParam().binary, "--config-dir", "/nonexistent/mpx-config", "--no-fork"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("/nonexistent/mpx-config"), std::string::npos) << result.err;
}

TEST_P(DaemonBinaries, VersionAndHelp) {
  auto result = mpx::test::run({GetParam().binary, "--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out.rfind(std::string(GetParam().name) + " ", 0), 0U) << result.out;
  result = mpx::test::run({GetParam().binary, "--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("--config-dir"), std::string::npos);
}

// Both daemons run with certificates in tests/integration; here only what the relay refuses
// before touching the kernel: one clear line and exit status 1.
TEST(RelayBinary, RefusesAnEbpfDatapathWithoutInterfaces) {
  mpx::test::TempDir dir;
  dir.write("config.ini", "[Relay]\ndispatchers = 192.0.2.1\ndatapath = xdp\n");
  const auto result = mpx::test::run({MPX_RELAY_BIN, "--config-dir", dir.path().string(),
                                      "--runtime-dir", dir.path().string(), "--no-fork"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("[Relay] datapath = xdp needs [Relay] bpf_interfaces"),
            std::string::npos)
      << result.err;
}

TEST(RelayBinary, RefusesToRunWithoutDispatchers) {
  mpx::test::TempDir dir;
  dir.write("config.ini", "[Relay]\ndatapath = userspace\n");
  const auto result = mpx::test::run({MPX_RELAY_BIN, "--config-dir", dir.path().string(),
                                      "--runtime-dir", dir.path().string(), "--no-fork"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("[Relay] dispatchers is empty"), std::string::npos) << result.err;
}

INSTANTIATE_TEST_SUITE_P(Both, DaemonBinaries,
                         testing::Values(Daemon{"mpx-dispatcher", MPX_DISPATCHER_BIN},
                                         Daemon{"mpx-relay", MPX_RELAY_BIN}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.name).substr(4);
                         });

}  // namespace
