// TLS context factories (spec 3.1, 4): the dispatcher (server for relays), the relay (client
// towards dispatchers) and the management server (dispatcher credentials, client certificate
// required) load MediaProxy's fixed file names from certs_path; an explicit-files client is for
// tools such as mpxctl. All contexts: mutual verification against ca.pem, CRL checking against
// crl.pem (re-read when it changes, see crl_reloader.hpp), TLS 1.2 minimum, no hostname check.
#pragma once

#include "common/tls/setup_error.hpp"

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <optional>
#include <string_view>

namespace mpx::tls {

enum class Role {
  dispatcher,         // TLS server for relays: dispatcher.crt/.key
  relay,              // TLS client towards dispatchers: relay.crt/.key
  management_server,  // the dispatcher's management listener: dispatcher.crt/.key
};

std::string_view to_string(Role role);

// The files one context loads.
struct CredentialFiles {
  std::filesystem::path certificate;         // our certificate (chain) in PEM
  std::filesystem::path private_key;         // its key, unencrypted PEM
  std::filesystem::path ca;                  // trusted CA certificate(s)
  std::optional<std::filesystem::path> crl;  // CRL(s) of those CAs; nullopt = no revocation check
};

// <certs_path>/<dispatcher|relay>.crt + .key, ca.pem, crl.pem (all mandatory for a role).
CredentialFiles role_files(Role role, const std::filesystem::path& certs_path);

// The context for `role`. Throws SetupError (one line naming the file) when a file is missing or
// unreadable, does not parse, the key does not match the certificate, or the CRL is not signed by
// a CA of ca.pem / has expired.
boost::asio::ssl::context make_context(Role role, const std::filesystem::path& certs_path);

// A TLS client with explicit files (e.g. mpxctl towards the management port). Same checks as
// make_context; without `files.crl` the server certificate is not checked for revocation.
boost::asio::ssl::context make_client_context(const CredentialFiles& files);

}  // namespace mpx::tls
