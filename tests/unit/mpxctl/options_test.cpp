// mpxctl's command line: defaults, the TLS files picked from --certs-dir (and overridden one by
// one), and every usage error giving exit status 2 with one line.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tools/mpxctl/options.hpp"

namespace mpx::mpxctl {
namespace {

using namespace std::chrono_literals;

std::variant<Options, Exit> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "mpxctl");
  std::vector<const char*> argv;
  for (const auto& arg : args) {
    argv.push_back(arg.c_str());
  }
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

Options options(const std::vector<std::string>& args) {
  auto parsed = parse(args);
  if (const auto* exit = std::get_if<Exit>(&parsed)) {
    ADD_FAILURE() << "unexpected exit " << exit->status << ": " << exit->err;
    return {};
  }
  return std::get<Options>(parsed);
}

// The usage error for `args`: status 2 and one line on stderr.
std::string usage_error(const std::vector<std::string>& args) {
  auto parsed = parse(args);
  const auto* exit = std::get_if<Exit>(&parsed);
  if (exit == nullptr) {
    ADD_FAILURE() << "accepted";
    return "";
  }
  EXPECT_EQ(exit->status, 2);
  EXPECT_EQ(exit->out, "");
  EXPECT_EQ(exit->err.rfind("mpxctl: ", 0), 0U) << exit->err;
  EXPECT_EQ(exit->err.find('\n'), exit->err.size() - 1) << exit->err;
  return exit->err;
}

TEST(MpxctlOptions, Defaults) {
  const auto o = options({"sessions"});
  EXPECT_EQ(o.command, Command::sessions);
  EXPECT_EQ(o.client.host, "127.0.0.1");
  EXPECT_EQ(o.client.port, 25061);
  EXPECT_FALSE(o.client.tls.has_value());
  EXPECT_EQ(o.client.timeout, 5000ms);
  EXPECT_FALSE(o.json);
  EXPECT_EQ(o.interval, 2000ms);
  EXPECT_FALSE(o.iterations.has_value());
}

TEST(MpxctlOptions, EveryOptionIsRead) {
  const auto o = options({"--host", "::1", "--port", "4000", "--json", "--timeout", "0.5",
                          "summary"});
  EXPECT_EQ(o.command, Command::summary);
  EXPECT_EQ(o.client.host, "::1");
  EXPECT_EQ(o.client.port, 4000);
  EXPECT_EQ(o.client.timeout, 500ms);
  EXPECT_TRUE(o.json);
  const auto top = options({"top", "--interval", "0.2", "--iterations", "3"});
  EXPECT_EQ(top.command, Command::top);
  EXPECT_EQ(top.interval, 200ms);
  EXPECT_EQ(top.iterations, 3U);
}

TEST(MpxctlOptions, TlsFilesComeFromTheCertsDirectory) {
  const auto o = options({"--tls", "--certs-dir", "/nonexistent/certs", "sessions"});
  ASSERT_TRUE(o.client.tls.has_value());
  EXPECT_EQ(o.client.tls->certificate, "/nonexistent/certs/management.crt");
  EXPECT_EQ(o.client.tls->private_key, "/nonexistent/certs/management.key");
  EXPECT_EQ(o.client.tls->ca, "/nonexistent/certs/ca.pem");
  EXPECT_FALSE(o.client.tls->crl.has_value());  // no crl.pem there

  const auto defaults = options({"--tls", "sessions"});
  ASSERT_TRUE(defaults.client.tls.has_value());
  EXPECT_EQ(defaults.client.tls->certificate,
            std::filesystem::path(kDefaultCertsDir) / "management.crt");
}

TEST(MpxctlOptions, CrlIsUsedWhenTheDirectoryHasOne) {
  const mpx::test::TempDir dir("mpxctl-certs");
  std::ofstream(dir.path() / "crl.pem") << "x";
  const auto o = options({"--tls", "--certs-dir", dir.path().string(), "summary"});
  ASSERT_TRUE(o.client.tls.has_value());
  EXPECT_EQ(o.client.tls->crl, dir.path() / "crl.pem");
}

TEST(MpxctlOptions, ExplicitFilesOverrideTheDirectory) {
  const auto o = options({"--tls", "--certs-dir", "/d", "--cert", "/x/me.crt", "--key",
                          "/x/me.key", "--ca", "/x/ca.pem", "--crl", "/x/crl.pem", "summary"});
  ASSERT_TRUE(o.client.tls.has_value());
  EXPECT_EQ(o.client.tls->certificate, "/x/me.crt");
  EXPECT_EQ(o.client.tls->private_key, "/x/me.key");
  EXPECT_EQ(o.client.tls->ca, "/x/ca.pem");
  EXPECT_EQ(o.client.tls->crl, std::filesystem::path("/x/crl.pem"));
}

TEST(MpxctlOptions, UsageErrors) {
  EXPECT_NE(usage_error({"frobnicate"}).find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(usage_error({"sessions", "summary"}).find("one command"), std::string::npos);
  EXPECT_NE(usage_error({"--bogus", "sessions"}).find("bogus"), std::string::npos);
  EXPECT_NE(usage_error({"--port", "-1", "sessions"}).find("--port '-1'"), std::string::npos);
  usage_error({"--port", "65536", "sessions"});
  usage_error({"--port", "0", "sessions"});
  usage_error({"--port", "12ab", "sessions"});
  usage_error({"--host", "", "sessions"});
  usage_error({"--interval", "0", "top"});
  usage_error({"--interval", "nan", "top"});
  usage_error({"--interval", "-1", "top"});
  usage_error({"--iterations", "0", "top"});
  usage_error({"--iterations", "-3", "top"});
  usage_error({"--timeout", "1e9", "sessions"});
  usage_error({"--port"});
  EXPECT_NE(usage_error({"--json", "top"}).find("--json"), std::string::npos);
  EXPECT_NE(usage_error({"--ca", "/x/ca.pem", "summary"}).find("--ca needs --tls"),
            std::string::npos);
  EXPECT_NE(usage_error({"--certs-dir", "/d", "summary"}).find("needs --tls"), std::string::npos);
}

TEST(MpxctlOptions, NoCommandPrintsHelpAndExits2) {
  auto parsed = parse({});
  const auto* exit = std::get_if<Exit>(&parsed);
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->status, 2);
  EXPECT_NE(exit->err.find("Usage: mpxctl [options] sessions|summary|top"), std::string::npos);
}

TEST(MpxctlOptions, HelpAndVersionExit0) {
  auto help = parse({"--help"});
  ASSERT_TRUE(std::holds_alternative<Exit>(help));
  EXPECT_EQ(std::get<Exit>(help).status, 0);
  EXPECT_NE(std::get<Exit>(help).out.find("--certs-dir DIR"), std::string::npos);
  auto version = parse({"--version"});
  ASSERT_TRUE(std::holds_alternative<Exit>(version));
  EXPECT_EQ(std::get<Exit>(version).status, 0);
  EXPECT_EQ(std::get<Exit>(version).out.rfind("mpxctl ", 0), 0U);
}

}  // namespace
}  // namespace mpx::mpxctl
