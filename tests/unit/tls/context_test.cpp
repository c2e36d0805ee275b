// Context factories: the fixed file names per role, the TLS parameters, and the one-line setup
// errors that name the file for every kind of broken credential.
#include "common/tls/context.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <filesystem>
#include <string>

#include "tests/support/subprocess.hpp"
#include "tests/unit/tls/tls_pair.hpp"

namespace mpx::tls {
namespace {

using testing::PkiCopy;

// The SetupError text of make_context(role, certs_path), or "" when it did not throw.
std::string setup_error(Role role, const std::filesystem::path& certs_path) {
  try {
    make_context(role, certs_path);
  } catch (const SetupError& error) {
    return error.what();
  }
  return "";
}

void expect_one_line_naming(const std::string& message, const std::filesystem::path& file,
                            const std::string& problem) {
  EXPECT_EQ(message.rfind(file.string() + ": ", 0), 0U) << message;
  EXPECT_NE(message.find(problem), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(TlsContext, RoleFilesUseMediaProxysFixedNames) {
  const std::filesystem::path dir = "/etc/mediaproxy/tls";
  const auto relay = role_files(Role::relay, dir);
  EXPECT_EQ(relay.certificate, dir / "relay.crt");
  EXPECT_EQ(relay.private_key, dir / "relay.key");
  EXPECT_EQ(relay.ca, dir / "ca.pem");
  EXPECT_EQ(relay.crl, dir / "crl.pem");
  EXPECT_EQ(role_files(Role::dispatcher, dir).certificate, dir / "dispatcher.crt");
  // The management listener presents the dispatcher's own credentials.
  const auto management = role_files(Role::management_server, dir);
  EXPECT_EQ(management.certificate, dir / "dispatcher.crt");
  EXPECT_EQ(management.private_key, dir / "dispatcher.key");
  EXPECT_EQ(management.crl, dir / "crl.pem");
}

TEST(TlsContext, RolesGetTheirVerificationModeAndTls12Minimum) {
  const PkiCopy pki;
  auto dispatcher = make_context(Role::dispatcher, pki.path());
  auto management = make_context(Role::management_server, pki.path());
  auto relay = make_context(Role::relay, pki.path());
  for (auto* context : {&dispatcher, &management}) {
    SSL_CTX* ctx = context->native_handle();
    EXPECT_EQ(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    EXPECT_NE(X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(ctx)) & X509_V_FLAG_CRL_CHECK, 0UL);
  }
  SSL_CTX* ctx = relay.native_handle();
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
  EXPECT_NE(X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(ctx)) & X509_V_FLAG_CRL_CHECK, 0UL);
}

TEST(TlsContext, MissingCaIsOneLineNamingTheFile) {
  const PkiCopy pki;
  std::filesystem::remove(pki.file("ca.pem"));
  expect_one_line_naming(setup_error(Role::relay, pki.path()), pki.file("ca.pem"),
                         "cannot open: No such file or directory");
}

TEST(TlsContext, MissingCrlIsOneLineNamingTheFile) {
  const PkiCopy pki;
  std::filesystem::remove(pki.file("crl.pem"));
  expect_one_line_naming(setup_error(Role::dispatcher, pki.path()), pki.file("crl.pem"),
                         "cannot open: No such file or directory");
}

TEST(TlsContext, MissingOwnCertificateOrKeyIsOneLineNamingTheFile) {
  const PkiCopy pki;
  std::filesystem::remove(pki.file("relay.key"));
  expect_one_line_naming(setup_error(Role::relay, pki.path()), pki.file("relay.key"),
                         "cannot open");
  std::filesystem::remove(pki.file("dispatcher.crt"));
  expect_one_line_naming(setup_error(Role::management_server, pki.path()),
                         pki.file("dispatcher.crt"), "cannot open");
}

TEST(TlsContext, KeyThatDoesNotMatchTheCertificate) {
  const PkiCopy pki;
  pki.use("dispatcher.key", "relay.key");
  expect_one_line_naming(setup_error(Role::relay, pki.path()), pki.file("relay.key"),
                         "private key does not match the certificate in " +
                             pki.file("relay.crt").string());
}

TEST(TlsContext, GarbageInsteadOfPem) {
  const PkiCopy pki;
  pki.replace("dispatcher.crt", "not a certificate\n");
  expect_one_line_naming(setup_error(Role::dispatcher, pki.path()), pki.file("dispatcher.crt"),
                         "no certificate found");
  const PkiCopy pki2;
  pki2.use("relay.key", "ca.pem");  // a key where the CA certificate should be
  expect_one_line_naming(setup_error(Role::relay, pki2.path()), pki2.file("ca.pem"),
                         "no certificate found");
}

TEST(TlsContext, CorruptCertificateNamesTheOpenSslReason) {
  const PkiCopy pki;
  std::string pem = testing::read_text(pki.file("relay.crt"));
  pem[pem.size() / 2] = '!';  // breaks the base64 body
  pki.replace("relay.crt", pem);
  expect_one_line_naming(setup_error(Role::relay, pki.path()), pki.file("relay.crt"),
                         "cannot parse certificate #1: ");
}

TEST(TlsContext, BadCrlIsASetupError) {
  const PkiCopy pki;
  pki.replace("crl.pem", "garbage\n");
  expect_one_line_naming(setup_error(Role::dispatcher, pki.path()), pki.file("crl.pem"),
                         "no CRL found");
  pki.use("crl-other-ca.pem", "crl.pem");
  expect_one_line_naming(setup_error(Role::dispatcher, pki.path()), pki.file("crl.pem"),
                         "matches no CA in the trusted ca.pem");
  pki.use("crl-expired.pem", "crl.pem");
  expect_one_line_naming(setup_error(Role::relay, pki.path()), pki.file("crl.pem"),
                         "CRL expired");
}

TEST(TlsContext, PassphraseProtectedKeyIsRefusedWithoutPrompting) {
  const PkiCopy pki;
  const auto encrypted = mpx::test::run({"openssl", "pkey", "-in", pki.file("relay.key").string(),
                                         "-aes256", "-passout", "pass:secret", "-out",
                                         pki.file("relay.key.enc").string()});
  ASSERT_EQ(encrypted.exit_code, 0) << encrypted.err;
  std::filesystem::rename(pki.file("relay.key.enc"), pki.file("relay.key"));
  expect_one_line_naming(setup_error(Role::relay, pki.path()), pki.file("relay.key"),
                         "passphrase-protected");
}

TEST(TlsContext, ExplicitClientFilesWithoutCrl) {
  const PkiCopy pki;
  CredentialFiles files{pki.file("management.crt"), pki.file("management.key"),
                        pki.file("ca.pem"), std::nullopt};
  auto context = make_client_context(files);
  EXPECT_EQ(SSL_CTX_get_verify_mode(context.native_handle()), SSL_VERIFY_PEER);
  EXPECT_EQ(X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(context.native_handle())) &
                X509_V_FLAG_CRL_CHECK,
            0UL);
  files.ca = pki.file("nope.pem");
  try {
    make_client_context(files);
    ADD_FAILURE() << "no SetupError";
  } catch (const SetupError& error) {
    expect_one_line_naming(error.what(), pki.file("nope.pem"), "No such file or directory");
  }
}

}  // namespace
}  // namespace mpx::tls
