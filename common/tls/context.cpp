// make_context / make_client_context: OpenSSL 3 contexts configured through the native handle so
// every failure can name the file it came from (asio's loaders only report OpenSSL's reason).
#include "common/tls/context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <utility>

#include "common/tls/crl_reloader.hpp"
#include "common/tls/openssl_ptr.hpp"
#include "common/tls/pem_files.hpp"

namespace mpx::tls {
namespace {

namespace ssl = boost::asio::ssl;

enum class Side { server, client };

template <class T>
T value_or_throw(Result<T> result) {
  if (!result) {
    throw SetupError(result.error().message);
  }
  return std::move(result).value();
}

void throw_if_failed(int openssl_status, const std::filesystem::path& file,
                     const std::string& problem) {
  if (openssl_status != 1) {
    throw SetupError(file.string() + ": " + problem + ": " + take_openssl_error("OpenSSL error"));
  }
}

void use_own_credentials(SSL_CTX* ctx, const CredentialFiles& files) {
  X509List chain = value_or_throw(load_certificates(files.certificate));
  EvpPkeyPtr key = value_or_throw(load_private_key(files.private_key));
  // Checked before SSL_CTX_use_PrivateKey: a key of another type would silently go into another
  // slot of the context and only fail at the first handshake.
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    throw SetupError(files.private_key.string() +
                     ": private key does not match the certificate in " +
                     files.certificate.string());
  }
  throw_if_failed(SSL_CTX_use_certificate(ctx, chain.front().get()), files.certificate,
                  "certificate not usable");
  for (std::size_t i = 1; i < chain.size(); ++i) {
    throw_if_failed(static_cast<int>(SSL_CTX_add1_chain_cert(ctx, chain[i].get())),
                    files.certificate,
                    "chain certificate #" + std::to_string(i + 1) + " not usable");
  }
  throw_if_failed(SSL_CTX_use_PrivateKey(ctx, key.get()), files.private_key,
                  "private key not usable");
}

// Trust anchors and revocation. Returns the CA certificates for the CRL reloader.
X509List use_trust(SSL_CTX* ctx, const CredentialFiles& files) {
  X509List cas = value_or_throw(load_certificates(files.ca));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& ca : cas) {
    throw_if_failed(X509_STORE_add_cert(store, ca.get()), files.ca, "cannot trust certificate");
  }
  return cas;
}

void use_crl(SSL_CTX* ctx, const std::filesystem::path& crl_file, const X509List& cas) {
  X509List issuers;
  for (const auto& ca : cas) {
    X509_up_ref(ca.get());
    X509Ptr reference(ca.get());
    issuers.push_back(std::move(reference));
  }
  auto reloader = std::make_unique<CrlReloader>(crl_file, std::move(issuers));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  if (auto loaded = reloader->refresh(store); !loaded) {
    throw SetupError(loaded.error().message);
  }
  // Set on the store and on the context's own parameters: OpenSSL merges both into each
  // verification, and the periodic re-check starts from the store.
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_CRL_CHECK);
  attach_crl_reloader(ctx, std::move(reloader));
}

ssl::context build(Side side, const CredentialFiles& files) {
  ssl::context context(side == Side::server ? ssl::context::tls_server : ssl::context::tls_client);
  SSL_CTX* ctx = context.native_handle();
  context.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    throw SetupError("TLS: cannot require TLS 1.2: " + take_openssl_error("OpenSSL error"));
  }

  use_own_credentials(ctx, files);
  const X509List cas = use_trust(ctx, files);
  if (files.crl) {
    use_crl(ctx, *files.crl, cas);
  }

  // No hostname check: MediaProxy has none, peers are identified by CA + CRL + passport.
  if (side == Side::server) {
    context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    // A resumed session skips certificate verification and so the CRL: always do full handshakes.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    static constexpr unsigned char session_id_context[] = "mpx";
    SSL_CTX_set_session_id_context(ctx, session_id_context, sizeof session_id_context - 1);
  } else {
    context.set_verify_mode(ssl::verify_peer);
  }
  return context;
}

}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::dispatcher:
      return "dispatcher";
    case Role::relay:
      return "relay";
    case Role::management_server:
      return "management server";
  }
  return "unknown role";
}

CredentialFiles role_files(Role role, const std::filesystem::path& certs_path) {
  const std::string name = role == Role::relay ? "relay" : "dispatcher";
  return CredentialFiles{certs_path / (name + ".crt"), certs_path / (name + ".key"),
                         certs_path / "ca.pem", certs_path / "crl.pem"};
}

ssl::context make_context(Role role, const std::filesystem::path& certs_path) {
  return build(role == Role::relay ? Side::client : Side::server, role_files(role, certs_path));
}

ssl::context make_client_context(const CredentialFiles& files) {
  return build(Side::client, files);
}

}  // namespace mpx::tls
