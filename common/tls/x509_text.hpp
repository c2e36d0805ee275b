// Text out of certificates for checks and log lines: one subject attribute as UTF-8, the whole
// subject on one line, and a log-safe rendering of untrusted text (peer-controlled subject values
// and config input must not be able to break a log line).
#pragma once

#include <openssl/x509.h>

#include <optional>
#include <string>
#include <string_view>

namespace mpx::tls {

// The first entry of `nid` (e.g. NID_organizationName) in the certificate's subject, as UTF-8;
// nullopt when the subject has no such entry or it cannot be converted.
std::optional<std::string> subject_attribute(const X509* cert, int nid);

// "C=NL, ST=Noord-Holland, ..., CN=relay1.mpx.test, emailAddress=ops@mpx.test".
std::string subject_line(const X509* cert);

// `text` with control characters (and DEL) written as \xNN, so it stays on one line.
std::string printable(std::string_view text);

}  // namespace mpx::tls
