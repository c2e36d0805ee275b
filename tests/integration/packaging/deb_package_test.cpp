// `cpack -G DEB` on this build: the package installs both daemons, mpxctl, mpx-certs, the
// systemd units (whose ExecStart names a binary the package ships), the sample configuration,
// and declares its library dependencies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/support/privileged.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using mpx::test::run;

TEST(DebPackage, HoldsTheDaemonsToolsUnitsAndConfiguration) {
  MPX_REQUIRE(mpx::test::missing_tool("cpack"));
  MPX_REQUIRE(mpx::test::missing_tool("dpkg-deb"));
  mpx::test::TempDir dir("mpx-deb");
  const auto made = run({"cpack", "-G", "DEB", "--config", MPX_CPACK_CONFIG, "-B",
                         dir.path().string()},
                        std::chrono::minutes(4));
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  std::filesystem::path deb;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().extension() == ".deb") {
      deb = entry.path();
    }
  }
  ASSERT_FALSE(deb.empty()) << made.out;

  const auto listing = run({"dpkg-deb", "-c", deb.string()});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  for (const std::string file :
       {"./usr/sbin/mpx-dispatcher", "./usr/sbin/mpx-relay", "./usr/bin/mpxctl",
        "./usr/sbin/mpx-certs", "./usr/lib/systemd/system/mpx-dispatcher.service",
        "./usr/lib/systemd/system/mpx-relay.service", "./usr/share/doc/mpx/config.ini.sample"}) {
    EXPECT_NE(listing.out.find(" " + file + "\n"), std::string::npos) << file << "\n"
                                                                     << listing.out;
  }
  const auto depends = run({"dpkg-deb", "-f", deb.string(), "Depends"});
  EXPECT_NE(depends.out.find("libnetfilter-conntrack3"), std::string::npos) << depends.out;
  EXPECT_NE(depends.out.find("libbpf1"), std::string::npos) << depends.out;

  const auto root = dir.path() / "root";
  ASSERT_EQ(run({"dpkg-deb", "-x", deb.string(), root.string()}).exit_code, 0);
  for (const std::string unit : {"mpx-dispatcher", "mpx-relay"}) {
    std::ifstream file(root / "usr/lib/systemd/system" / (unit + ".service"));
    std::stringstream text;
    text << file.rdbuf();
    std::smatch exec;
    const std::string content = text.str();
    ASSERT_TRUE(std::regex_search(content, exec, std::regex("ExecStart=(\\S+)"))) << content;
    EXPECT_EQ(exec[1].str(), "/usr/sbin/" + unit);
    EXPECT_TRUE(std::filesystem::exists(root / exec[1].str().substr(1))) << exec[1].str();
  }
  const auto version = run({(root / "usr/sbin/mpx-relay").string(), "--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
}

}  // namespace
