// load_config_dir: the configuration directory on disk (missing directory, missing file, read
// file).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/config/config.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::config {
namespace {

namespace fs = std::filesystem;

TEST(ConfigLoadDir, MissingConfigIniGivesDefaults) {
  const test::TempDir dir("mpx-config");
  const Config config = load_config_dir(dir.path());
  EXPECT_EQ(config.config_dir, dir.path());
  EXPECT_TRUE(config.config_file.empty());
  EXPECT_EQ(config.relay, RelayConfig{});
  EXPECT_EQ(config.dispatcher, DispatcherConfig{});
  EXPECT_EQ(config.certs_dir(), dir.path() / "tls");
}

TEST(ConfigLoadDir, ReadsConfigIni) {
  const test::TempDir dir("mpx-config");
  const auto file =
      dir.write("config.ini", "[Relay]\nport_range = 50000:50100\n[TLS]\ncerts_path = certs\n");
  const Config config = load_config_dir(dir.path());
  EXPECT_EQ(config.config_file, file);
  EXPECT_EQ(config.relay.port_range, (PortRange{50000, 50100}));
  EXPECT_EQ(config.certs_dir(), dir.path() / "certs");
}

TEST(ConfigLoadDir, ErrorsNameTheFullPath) {
  const test::TempDir dir("mpx-config");
  const auto file = dir.write("config.ini", "[Relay]\nport_range = 50001:50100\n");
  try {
    load_config_dir(dir.path());
    FAIL() << "bad file accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(
        std::string(error.what()).rfind(file.string() + ":2: [Relay] port_range = 50001:50100", 0),
        0U)
        << error.what();
  }
}

TEST(ConfigLoadDir, MissingDirectoryIsAnError) {
  const test::TempDir dir("mpx-config");
  const auto missing = dir.path() / "nope";
  try {
    load_config_dir(missing);
    FAIL() << "missing directory accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              missing.string() + ": configuration directory does not exist or is not a directory");
  }
}

TEST(ConfigLoadDir, FileInsteadOfDirectoryIsAnError) {
  const test::TempDir dir("mpx-config");
  const auto file = dir.write("plain", "x");
  EXPECT_THROW(load_config_dir(file), ConfigError);
}

TEST(ConfigLoadDir, ConfigIniThatIsADirectoryIsAnError) {
  const test::TempDir dir("mpx-config");
  fs::create_directory(dir.path() / "config.ini");
  try {
    load_config_dir(dir.path());
    FAIL() << "directory config.ini accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("not a readable regular file"), std::string::npos);
  }
}

TEST(ConfigLoadDir, RelativeDirectoryIsMadeAbsolute) {
  const test::TempDir dir("mpx-config");
  dir.write("config.ini", "[TLS]\ncerts_path = tls\n");
  const auto saved = fs::current_path();
  fs::current_path(dir.path().parent_path());
  const Config config = load_config_dir(dir.path().filename());
  fs::current_path(saved);
  EXPECT_TRUE(config.config_dir.is_absolute());
  EXPECT_EQ(config.certs_dir(), dir.path() / "tls");
}

TEST(ConfigLoadDir, OversizedFileIsRefused) {
  const test::TempDir dir("mpx-config");
  dir.write("config.ini", "[Relay]\n;" + std::string(2 * 1024 * 1024, 'x') + "\n");
  try {
    load_config_dir(dir.path());
    FAIL() << "oversized file accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("file is larger than"), std::string::npos);
  }
}

}  // namespace
}  // namespace mpx::config
