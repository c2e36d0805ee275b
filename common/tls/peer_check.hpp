// Checks of an established TLS connection's peer: right after the handshake (verification result,
// certificate present, passport) and again later (spec 3.1 verify_interval: time validity and
// revocation, with crl.pem re-read when it changed). Errors are one line, ready to log.
#pragma once

#include "common/result.hpp"
#include "common/tls/passport.hpp"

#include <openssl/ssl.h>

#include <chrono>
#include <optional>

namespace mpx::tls {

// After a successful handshake: the peer's certificate verified, is present and, when `passport` is
// set, matches it. Errors: "peer presented no certificate", "peer certificate rejected: <reason>",
// "refused due to wrong passport: O='x' does not match 'mpx*'".
Result<void> check_peer(SSL* ssl, const std::optional<Passport>& passport);

// Verifies the connected peer's certificate chain again, now (or at `at`, for tests), against the
// context's CA and the current crl.pem (reloaded first if the file changed). Error: e.g.
// "peer certificate CN=relay1.mpx.test, ... failed re-verification: certificate revoked", or the
// crl.pem load error.
Result<void> recheck_peer(SSL* ssl,
                          std::optional<std::chrono::system_clock::time_point> at = std::nullopt);

}  // namespace mpx::tls
