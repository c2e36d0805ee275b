// take_openssl_error(): OpenSSL's error queue reduced to one reason string for our error messages.
#include "common/tls/openssl_ptr.hpp"

#include <openssl/err.h>

namespace mpx::tls {

std::string take_openssl_error(const std::string& fallback) {
  // The last error is the most specific one (e.g. "no start line" under a generic decoder error).
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) {
    return fallback;
  }
  const char* reason = ERR_reason_error_string(code);
  if (reason != nullptr) {
    return reason;
  }
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

}  // namespace mpx::tls
