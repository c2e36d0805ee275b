// Real TLS handshakes over 127.0.0.1 with the role contexts: mutual authentication succeeds
// between relay and dispatcher, every kind of bad peer certificate is rejected on either side, and
// check_peer() applies the passport after the handshake.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ssl.hpp>

#include <string>

#include "common/tls/context.hpp"
#include "common/tls/passport.hpp"
#include "common/tls/peer_check.hpp"
#include "common/tls/x509_text.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/unit/tls/tls_pair.hpp"

namespace mpx::tls {
namespace {

namespace ssl = boost::asio::ssl;
using testing::HandshakeResult;
using testing::PkiCopy;
using testing::TlsPair;

std::filesystem::path pki() { return mpx::test::test_pki_dir(); }

// A relay-like client presenting <name>.crt/.key from the test PKI.
ssl::context client_presenting(const std::string& name) {
  return make_client_context(
      {pki() / (name + ".crt"), pki() / (name + ".key"), pki() / "ca.pem", pki() / "crl.pem"});
}

Passport passport(std::string_view text) { return *Passport::parse(text).value(); }

std::string peer_subject(SSL* ssl) { return subject_line(SSL_get0_peer_certificate(ssl)); }

TEST(TlsHandshake, RelayAndDispatcherAuthenticateEachOther) {
  auto dispatcher = make_context(Role::dispatcher, pki());
  auto relay = make_context(Role::relay, pki());
  TlsPair pair(dispatcher, relay);
  const HandshakeResult result = pair.handshake();
  ASSERT_FALSE(result.timed_out);
  ASSERT_FALSE(result.server) << result.server.message();
  ASSERT_FALSE(result.client) << result.client.message();

  EXPECT_GE(SSL_version(pair.server_ssl()), TLS1_2_VERSION);
  EXPECT_NE(peer_subject(pair.server_ssl()).find("CN=relay1.mpx.test"), std::string::npos);
  EXPECT_NE(peer_subject(pair.client_ssl()).find("CN=dispatcher1.mpx.test"), std::string::npos);

  EXPECT_TRUE(check_peer(pair.server_ssl(), std::nullopt).has_value());
  EXPECT_TRUE(check_peer(pair.client_ssl(), std::nullopt).has_value());
  // Dispatcher `passport` checks relays, relay `passport` checks dispatchers.
  const auto relay_seen = check_peer(pair.server_ssl(), passport("O:mpx test, OU:relays"));
  EXPECT_TRUE(relay_seen.has_value()) << relay_seen.error().message;
  const auto dispatcher_seen = check_peer(pair.client_ssl(), passport("CN:dispatcher*"));
  EXPECT_TRUE(dispatcher_seen.has_value()) << dispatcher_seen.error().message;
}

TEST(TlsHandshake, ManagementClientWithCertificateIsAccepted) {
  auto management = make_context(Role::management_server, pki());
  auto client = client_presenting("management");
  TlsPair pair(management, client);
  const HandshakeResult result = pair.handshake();
  ASSERT_FALSE(result.timed_out);
  EXPECT_FALSE(result.server) << result.server.message();
  EXPECT_FALSE(result.client) << result.client.message();
  const auto checked = check_peer(pair.server_ssl(), passport("OU:management"));
  EXPECT_TRUE(checked.has_value()) << checked.error().message;
}

// The dispatcher must refuse the relay-side certificate; returns the server's verify result.
long server_rejects(const std::string& client_name) {
  auto dispatcher = make_context(Role::dispatcher, pki());
  auto client = client_presenting(client_name);
  TlsPair pair(dispatcher, client);
  const HandshakeResult result = pair.handshake();
  EXPECT_FALSE(result.timed_out);
  EXPECT_TRUE(result.server) << client_name << " was accepted";
  EXPECT_FALSE(check_peer(pair.server_ssl(), std::nullopt).has_value());
  return SSL_get_verify_result(pair.server_ssl());
}

TEST(TlsHandshake, ClientFromAnotherCaIsRejected) {
  EXPECT_EQ(server_rejects("other"), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST(TlsHandshake, ExpiredClientIsRejected) {
  EXPECT_EQ(server_rejects("expired"), X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST(TlsHandshake, RevokedClientIsRejected) {
  EXPECT_EQ(server_rejects("revoked"), X509_V_ERR_CERT_REVOKED);
}

TEST(TlsHandshake, ClientWithoutCertificateIsRejected) {
  auto dispatcher = make_context(Role::dispatcher, pki());
  ssl::context anonymous(ssl::context::tls_client);
  anonymous.load_verify_file((pki() / "ca.pem").string());
  anonymous.set_verify_mode(ssl::verify_peer);
  TlsPair pair(dispatcher, anonymous);
  const HandshakeResult result = pair.handshake();
  ASSERT_FALSE(result.timed_out);
  EXPECT_TRUE(result.server);
  EXPECT_EQ(SSL_get0_peer_certificate(pair.server_ssl()), nullptr);
  EXPECT_EQ(check_peer(pair.server_ssl(), std::nullopt).error().message,
            "peer presented no certificate");
}

TEST(TlsHandshake, ManagementClientWithoutCertificateIsRejected) {
  auto management = make_context(Role::management_server, pki());
  ssl::context anonymous(ssl::context::tls_client);
  anonymous.set_verify_mode(ssl::verify_none);
  TlsPair pair(management, anonymous);
  const HandshakeResult result = pair.handshake();
  ASSERT_FALSE(result.timed_out);
  EXPECT_TRUE(result.server);
}

// The relay must refuse the dispatcher's certificate; returns the client's verify result.
long relay_rejects_dispatcher_presenting(const std::string& name) {
  const PkiCopy certs;
  certs.use(name + ".crt", "dispatcher.crt");
  certs.use(name + ".key", "dispatcher.key");
  auto dispatcher = make_context(Role::dispatcher, certs.path());
  auto relay = make_context(Role::relay, pki());
  TlsPair pair(dispatcher, relay);
  const HandshakeResult result = pair.handshake();
  EXPECT_FALSE(result.timed_out);
  EXPECT_TRUE(result.client) << name << " was accepted by the relay";
  EXPECT_TRUE(result.server);
  return SSL_get_verify_result(pair.client_ssl());
}

TEST(TlsHandshake, RelayRejectsDispatcherFromAnotherCa) {
  EXPECT_EQ(relay_rejects_dispatcher_presenting("other"),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST(TlsHandshake, RelayRejectsRevokedDispatcher) {
  EXPECT_EQ(relay_rejects_dispatcher_presenting("revoked"), X509_V_ERR_CERT_REVOKED);
}

TEST(TlsHandshake, RelayRejectsExpiredDispatcher) {
  EXPECT_EQ(relay_rejects_dispatcher_presenting("expired"), X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST(TlsHandshake, NoHostnameCheck) {
  // The dispatcher is reached as 127.0.0.1 but its certificate names dispatcher1.mpx.test; a
  // relay certificate (CN=relay1.mpx.test) on the dispatcher side is just as acceptable.
  const PkiCopy certs;
  certs.use("relay.crt", "dispatcher.crt");
  certs.use("relay.key", "dispatcher.key");
  auto dispatcher = make_context(Role::dispatcher, certs.path());
  auto relay = make_context(Role::relay, pki());
  TlsPair pair(dispatcher, relay);
  const HandshakeResult result = pair.handshake();
  ASSERT_FALSE(result.timed_out);
  EXPECT_FALSE(result.client) << result.client.message();
  EXPECT_FALSE(result.server) << result.server.message();
}

TEST(TlsHandshake, WrongPassportIsRefusedAfterTheHandshake) {
  auto dispatcher = make_context(Role::dispatcher, pki());
  auto intruder = client_presenting("wrong-subject");
  TlsPair pair(dispatcher, intruder);
  const HandshakeResult result = pair.handshake();
  ASSERT_FALSE(result.timed_out);
  // Same CA, valid, not revoked: TLS accepts it, only the passport refuses it.
  ASSERT_FALSE(result.server) << result.server.message();
  const auto checked = check_peer(pair.server_ssl(), passport("O:mpx test, OU:relays"));
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().message,
            "refused due to wrong passport: O='Intruder, Inc.' does not match 'mpx test'");
  EXPECT_EQ(check_peer(pair.server_ssl(), passport("OU:relays")).error().message,
            "refused due to wrong passport: OU='intruders' does not match 'relays'");
  EXPECT_TRUE(check_peer(pair.server_ssl(), passport("O:Intruder\\, Inc.")).has_value());
  EXPECT_TRUE(check_peer(pair.server_ssl(), passport("CN:*.example.org, L:Ber*")).has_value());
}

}  // namespace
}  // namespace mpx::tls
