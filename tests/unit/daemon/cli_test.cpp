// The daemons' command line: MediaProxy's flags plus --pid, --help/--version, bad flags.
#include "common/daemon/cli.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace {

using mpx::daemon::CommandLine;
using mpx::daemon::ExitNow;

struct Parsed {
  std::variant<CommandLine, ExitNow> result;
  std::string out;
  std::string err;
};

Parsed parse(std::vector<const char*> args) {
  args.insert(args.begin(), "mpx-test");
  std::ostringstream out;
  std::ostringstream err;
  auto result = mpx::daemon::parse_command_line(static_cast<int>(args.size()), args.data(),
                                                {"mpx-test", "a test daemon"}, out, err);
  return {std::move(result), out.str(), err.str()};
}

TEST(CommandLine, DefaultsAreMediaProxys) {
  const auto parsed = parse({});
  const auto& cli = std::get<CommandLine>(parsed.result);
  EXPECT_EQ(cli.config_dir, "/etc/mediaproxy");
  EXPECT_EQ(cli.runtime_dir, "/run/mediaproxy");
  EXPECT_FALSE(cli.pid_file.has_value());
  EXPECT_FALSE(cli.no_fork);
  EXPECT_FALSE(cli.systemd);
  EXPECT_FALSE(cli.debug);
}

TEST(CommandLine, EveryFlagIsTaken) {
  const auto parsed = parse({"--config-dir", "/tmp/c", "--runtime-dir=/tmp/r", "--pid",
                             "/tmp/r/x.pid", "--no-fork", "--systemd", "--debug", "--debug-memory"});
  const auto& cli = std::get<CommandLine>(parsed.result);
  EXPECT_EQ(cli.config_dir, "/tmp/c");
  EXPECT_EQ(cli.runtime_dir, "/tmp/r");
  EXPECT_EQ(cli.pid_file, std::filesystem::path("/tmp/r/x.pid"));
  EXPECT_TRUE(cli.no_fork);
  EXPECT_TRUE(cli.systemd);
  EXPECT_TRUE(cli.debug);
  EXPECT_TRUE(cli.debug_memory);
}

TEST(CommandLine, HelpListsEveryFlagAndExitsZero) {
  const auto parsed = parse({"--help"});
  EXPECT_EQ(std::get<ExitNow>(parsed.result).status, 0);
  for (const char* flag : {"--help", "--version", "--config-dir", "--runtime-dir", "--pid",
                           "--no-fork", "--systemd", "--debug", "--debug-memory"}) {
    EXPECT_NE(parsed.out.find(flag), std::string::npos) << flag;
  }
}

TEST(CommandLine, VersionPrintsNameAndVersion) {
  const auto parsed = parse({"--version"});
  EXPECT_EQ(std::get<ExitNow>(parsed.result).status, 0);
  EXPECT_EQ(parsed.out.rfind("mpx-test ", 0), 0U);
}

TEST(CommandLine, UnknownFlagIsOneLineAndStatusTwo) {
  const auto parsed = parse({"--no-such-flag"});
  EXPECT_EQ(std::get<ExitNow>(parsed.result).status, 2);
  EXPECT_NE(parsed.err.find("--no-such-flag"), std::string::npos);
  EXPECT_EQ(std::count(parsed.err.begin(), parsed.err.end(), '\n'), 1);
}

TEST(CommandLine, MissingValueIsAnError) {
  const auto parsed = parse({"--config-dir"});
  EXPECT_EQ(std::get<ExitNow>(parsed.result).status, 2);
  EXPECT_NE(parsed.err.find("config-dir"), std::string::npos);
}

}  // namespace
