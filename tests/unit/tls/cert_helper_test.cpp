// tools/mpx-certs, the operator's certificate helper: what it makes is what the daemons load, the
// relay and the dispatcher authenticate each other with it, passports can check its subjects, and
// a revoked relay is refused once the new crl.pem is in place.
#include <gtest/gtest.h>

#include <string>

#include "common/tls/context.hpp"
#include "common/tls/passport.hpp"
#include "common/tls/peer_check.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/tls/tls_pair.hpp"

namespace mpx::tls {
namespace {

using testing::HandshakeResult;
using testing::TlsPair;

class CertHelper : public ::testing::Test {
 protected:
  mpx::test::RunResult certs(const std::vector<std::string>& arguments) {
    std::vector<std::string> argv{mpx::test::source_path("tools/mpx-certs")};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return mpx::test::run(argv);
  }
  void ok(const std::vector<std::string>& arguments) {
    const auto result = certs(arguments);
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  }
  std::string ca() const { return (dir_.path() / "ca").string(); }
  std::string host(const std::string& name) const { return (dir_.path() / name).string(); }

  mpx::test::TempDir dir_;
};

TEST_F(CertHelper, IssuedCertificatesAuthenticateRelayAndDispatcher) {
  ok({"init", ca(), "--org", "Example Telecom"});
  ok({"issue", ca(), "dispatcher", "dispatcher1.example.com"});
  ok({"issue", ca(), "relay", "relay1.example.com"});
  ok({"export", ca(), "dispatcher1.example.com", "dispatcher", host("dispatcher-tls")});
  ok({"export", ca(), "relay1.example.com", "relay", host("relay-tls")});

  auto dispatcher = make_context(Role::dispatcher, host("dispatcher-tls"));
  auto relay = make_context(Role::relay, host("relay-tls"));
  TlsPair pair(dispatcher, relay);
  const HandshakeResult result = pair.handshake();
  ASSERT_FALSE(result.timed_out);
  ASSERT_FALSE(result.server) << result.server.message();
  ASSERT_FALSE(result.client) << result.client.message();
  const auto relay_seen =
      check_peer(pair.server_ssl(), *Passport::parse("O:Example Telecom, OU:relay").value());
  EXPECT_TRUE(relay_seen.has_value()) << relay_seen.error().message;
  const auto dispatcher_seen =
      check_peer(pair.client_ssl(), *Passport::parse("CN:*.example.com, OU:dispatcher").value());
  EXPECT_TRUE(dispatcher_seen.has_value()) << dispatcher_seen.error().message;
}

TEST_F(CertHelper, ARevokedRelayIsRefusedWithTheNewCrl) {
  ok({"init", ca()});
  ok({"issue", ca(), "dispatcher", "dispatcher1"});
  ok({"issue", ca(), "relay", "relay1"});
  ok({"export", ca(), "relay1", "relay", host("relay-tls")});
  ok({"revoke", ca(), "relay1"});
  ok({"export", ca(), "dispatcher1", "dispatcher", host("dispatcher-tls")});  // the new crl.pem

  auto dispatcher = make_context(Role::dispatcher, host("dispatcher-tls"));
  auto relay = make_context(Role::relay, host("relay-tls"));
  TlsPair pair(dispatcher, relay);
  const HandshakeResult result = pair.handshake();
  ASSERT_FALSE(result.timed_out);
  EXPECT_TRUE(result.server) << "the dispatcher accepted a revoked relay";
}

TEST_F(CertHelper, RefusesBadInputWithOneLine) {
  ok({"init", ca()});
  auto result = certs({"init", ca()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("already holds a CA"), std::string::npos) << result.err;
  result = certs({"issue", ca(), "proxy", "p1"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("ROLE must be"), std::string::npos) << result.err;
  result = certs({"issue", ca(), "relay", "../escape"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("not a usable name"), std::string::npos) << result.err;
  result = certs({"issue", host("nothing"), "relay", "r1"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("is not an mpx-certs CA"), std::string::npos) << result.err;
  ok({"issue", ca(), "relay", "r1"});
  result = certs({"issue", ca(), "relay", "r1"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("already issued"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace mpx::tls
