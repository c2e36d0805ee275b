// Periodic re-verification (spec 3.1 verify_interval): recheck_peer() against the current clock and
// the current crl.pem, crl.pem re-read when an operator replaces it, and PeerReverifier's timer
// loop reporting the first failure to its owner.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/tls/context.hpp"
#include "common/tls/peer_check.hpp"
#include "common/tls/peer_reverifier.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/unit/tls/tls_pair.hpp"

namespace mpx::tls {
namespace {

using namespace std::chrono_literals;
using testing::PkiCopy;
using testing::TlsPair;

// A connected relay -> dispatcher pair whose dispatcher reads a private, replaceable crl.pem.
class TlsReverify : public ::testing::Test {
 protected:
  TlsReverify()
      : dispatcher_(make_context(Role::dispatcher, pki_.path())),
        relay_(make_context(Role::relay, pki_.path())),
        pair_(dispatcher_, relay_) {}

  void SetUp() override {
    const auto result = pair_.handshake();
    ASSERT_FALSE(result.timed_out);
    ASSERT_FALSE(result.server) << result.server.message();
    ASSERT_FALSE(result.client) << result.client.message();
  }

  void revoke_relay() const { pki_.use("crl-revoking-relay.pem", "crl.pem"); }

  // Runs the io_context until `done` or `limit`.
  template <class Predicate>
  void run_until(Predicate done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    pair_.io().restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      pair_.io().run_one_until(deadline);
      pair_.io().restart();
    }
  }

  PkiCopy pki_;
  boost::asio::ssl::context dispatcher_;
  boost::asio::ssl::context relay_;
  TlsPair pair_;
};

TEST_F(TlsReverify, ValidPeerPassesOnBothSides) {
  const auto server_side = recheck_peer(pair_.server_ssl());
  EXPECT_TRUE(server_side.has_value()) << server_side.error().message;
  const auto client_side = recheck_peer(pair_.client_ssl());
  EXPECT_TRUE(client_side.has_value()) << client_side.error().message;
}

TEST_F(TlsReverify, PeerRevokedAfterConnectingFailsOnceCrlPemIsReplaced) {
  ASSERT_TRUE(recheck_peer(pair_.server_ssl()).has_value());
  revoke_relay();
  const auto checked = recheck_peer(pair_.server_ssl());
  ASSERT_FALSE(checked.has_value());
  EXPECT_NE(checked.error().message.find("certificate revoked"), std::string::npos)
      << checked.error().message;
  EXPECT_NE(checked.error().message.find("CN=relay1.mpx.test"), std::string::npos)
      << checked.error().message;
  // The new CRL revokes only the relay: the relay's view of the dispatcher is still valid.
  EXPECT_TRUE(recheck_peer(pair_.client_ssl()).has_value());
}

TEST_F(TlsReverify, NewHandshakesUseTheReplacedCrlToo) {
  revoke_relay();
  auto relay = make_context(Role::relay, mpx::test::test_pki_dir());
  TlsPair again(dispatcher_, relay);
  const auto result = again.handshake();
  ASSERT_FALSE(result.timed_out);
  EXPECT_TRUE(result.server) << "revoked relay was accepted by a running dispatcher";
  EXPECT_EQ(SSL_get_verify_result(again.server_ssl()), X509_V_ERR_CERT_REVOKED);
}

TEST_F(TlsReverify, ExpiryIsCheckedAgainstTheClock) {
  using std::chrono::system_clock;
  // The test certificates are valid for ten years from their creation, crl.pem from 2020 to 2060
  // (OpenSSL checks revocation before validity, so the CRL must outlive the certificates).
  EXPECT_TRUE(recheck_peer(pair_.server_ssl(), system_clock::now() + 24h * 365).has_value());
  const auto later = recheck_peer(pair_.server_ssl(), system_clock::now() + 24h * 365 * 11);
  ASSERT_FALSE(later.has_value());
  EXPECT_NE(later.error().message.find("certificate has expired"), std::string::npos)
      << later.error().message;
  const auto earlier = recheck_peer(pair_.server_ssl(), system_clock::now() - 24h * 365);
  ASSERT_FALSE(earlier.has_value());
  EXPECT_NE(earlier.error().message.find("certificate is not yet valid"), std::string::npos)
      << earlier.error().message;
}

TEST_F(TlsReverify, BrokenCrlPemFailsClosedUntilRepaired) {
  pki_.replace("crl.pem", "half-written\n");
  const auto broken = recheck_peer(pair_.server_ssl());
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().message.rfind(pki_.file("crl.pem").string() + ": no CRL found", 0), 0U)
      << broken.error().message;
  pki_.use("crl.pem", "crl.pem");
  const auto repaired = recheck_peer(pair_.server_ssl());
  EXPECT_TRUE(repaired.has_value()) << repaired.error().message;
}

TEST_F(TlsReverify, RevocationCanBeUndoneByAnOlderCrl) {
  revoke_relay();
  ASSERT_FALSE(recheck_peer(pair_.server_ssl()).has_value());
  pki_.use("crl.pem", "crl.pem");
  const auto checked = recheck_peer(pair_.server_ssl());
  EXPECT_TRUE(checked.has_value()) << checked.error().message;
}

TEST_F(TlsReverify, TimerKeepsCheckingAndReportsTheFirstFailureOnce) {
  std::vector<std::string> failures;
  PeerReverifier reverifier(pair_.io().get_executor(), pair_.server_ssl(), 20ms,
                            [&](const Error& error) { failures.push_back(error.message); });
  reverifier.start();
  // Several intervals with a valid peer: no report, and the loop must still be alive afterwards.
  run_until([] { return false; }, 150ms);
  EXPECT_TRUE(failures.empty());

  revoke_relay();
  run_until([&] { return !failures.empty(); }, 5000ms);
  ASSERT_EQ(failures.size(), 1U);
  EXPECT_NE(failures.front().find("certificate revoked"), std::string::npos) << failures.front();
  run_until([] { return false; }, 100ms);
  EXPECT_EQ(failures.size(), 1U);
}

TEST_F(TlsReverify, CancelledTimerNeverReports) {
  int failures = 0;
  PeerReverifier reverifier(pair_.io().get_executor(), pair_.server_ssl(), 20ms,
                            [&](const Error&) { ++failures; });
  reverifier.start();
  revoke_relay();
  reverifier.cancel();
  run_until([] { return false; }, 150ms);
  EXPECT_EQ(failures, 0);
}

TEST_F(TlsReverify, DestroyedTimerNeverReports) {
  int failures = 0;
  {
    PeerReverifier reverifier(pair_.io().get_executor(), pair_.server_ssl(), 20ms,
                              [&](const Error&) { ++failures; });
    reverifier.start();
  }
  revoke_relay();
  run_until([] { return false; }, 150ms);
  EXPECT_EQ(failures, 0);
}

TEST_F(TlsReverify, ZeroIntervalDisablesTheChecks) {
  int failures = 0;
  PeerReverifier reverifier(pair_.io().get_executor(), pair_.server_ssl(), 0ms,
                            [&](const Error&) { ++failures; });
  reverifier.start();
  revoke_relay();
  run_until([] { return false; }, 100ms);
  EXPECT_EQ(failures, 0);
}

TEST_F(TlsReverify, OwnerMayDestroyTheReverifierFromTheCallback) {
  std::optional<PeerReverifier> reverifier;
  std::string reported;
  reverifier.emplace(pair_.io().get_executor(), pair_.server_ssl(), 10ms, [&](const Error& error) {
    reported = error.message;
    reverifier.reset();  // what an owner closing the connection does
  });
  reverifier->start();
  revoke_relay();
  run_until([&] { return !reported.empty(); }, 5000ms);
  EXPECT_NE(reported.find("certificate revoked"), std::string::npos) << reported;
  EXPECT_FALSE(reverifier.has_value());
}

}  // namespace
}  // namespace mpx::tls
