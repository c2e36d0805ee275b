// check_peer (post-handshake) and recheck_peer (periodic re-verification) of a TLS peer.
#include "common/tls/peer_check.hpp"

#include "common/tls/crl_reloader.hpp"
#include "common/tls/openssl_ptr.hpp"
#include "common/tls/x509_text.hpp"

#include <openssl/err.h>

#include <string>

namespace mpx::tls {

Result<void> check_peer(SSL* ssl, const std::optional<Passport>& passport) {
  if (ssl == nullptr) {
    return Error{"no TLS connection to check"};
  }
  const X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) {
    return Error{"peer presented no certificate"};
  }
  if (const long result = SSL_get_verify_result(ssl); result != X509_V_OK) {
    return Error{"peer certificate rejected: " +
                 std::string(X509_verify_cert_error_string(result)) + " (" + subject_line(cert) +
                 ")"};
  }
  if (passport) {
    if (auto why = passport->mismatch(cert)) {
      return Error{"refused due to wrong passport: " + *why};
    }
  }
  return outcome::success();
}

Result<void> recheck_peer(SSL* ssl, std::optional<std::chrono::system_clock::time_point> at) {
  if (ssl == nullptr) {
    return Error{"no TLS connection to re-check"};
  }
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) {
    return Error{"peer presented no certificate"};
  }
  SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  if (CrlReloader* reloader = find_crl_reloader(ctx); reloader != nullptr) {
    if (auto refreshed = reloader->refresh(store); !refreshed) {
      return refreshed.error();
    }
  }

  X509StoreCtxPtr verification(X509_STORE_CTX_new());
  // The server side's peer chain excludes the leaf, the client side's includes it: both are only
  // untrusted helpers for building the path, so either is fine.
  if (!verification ||
      X509_STORE_CTX_init(verification.get(), store, cert, SSL_get_peer_cert_chain(ssl)) != 1) {
    return Error{"cannot re-check peer certificate: " + take_openssl_error("out of memory")};
  }
  // The same purpose and parameters as the handshake used (see OpenSSL's ssl_verify_cert_chain).
  X509_STORE_CTX_set_default(verification.get(), SSL_is_server(ssl) ? "ssl_client" : "ssl_server");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(verification.get());
  X509_VERIFY_PARAM_set1(param, SSL_get0_param(ssl));
  if (at) {
    X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(*at));
  }
  if (X509_verify_cert(verification.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(verification.get());
    ERR_clear_error();
    return Error{"peer certificate " + subject_line(cert) + " failed re-verification: " +
                 X509_verify_cert_error_string(error)};
  }
  return outcome::success();
}

}  // namespace mpx::tls
