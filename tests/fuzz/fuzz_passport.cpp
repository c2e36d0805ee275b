// libFuzzer target for the passport parser (common/tls/passport.hpp): any input parses or fails
// cleanly; a parsed passport prints to a form that parses back equal, and matching it against a
// certificate never crashes and yields a one-line answer.
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/tls/passport.hpp"

namespace {

// One certificate with every passport attribute set, made once; matching reads only the subject.
X509* subject_certificate() {
  static X509* cert = [] {
    X509* made = X509_new();
    X509_NAME* name = X509_get_subject_name(made);
    const char* entries[][2] = {{"C", "NL"},
                                {"ST", "Noord-Holland"},
                                {"L", "Amsterdam"},
                                {"O", "mpx test, relays"},
                                {"OU", "relays"},
                                {"CN", "relay1.mpx.test"},
                                {"emailAddress", "ops@mpx.test"}};
    for (const auto& entry : entries) {
      X509_NAME_add_entry_by_txt(name, entry[0], MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(entry[1]), -1, -1, 0);
    }
    return made;
  }();
  return cert;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = mpx::tls::Passport::parse(text);
  if (!parsed) {
    if (parsed.error().message.empty() ||
        parsed.error().message.find('\n') != std::string::npos) {
      __builtin_trap();  // errors must be one non-empty line
    }
    return 0;
  }
  if (!parsed.value()) {
    return 0;  // "None"
  }
  const mpx::tls::Passport& passport = *parsed.value();
  const std::string printed = passport.to_string();
  auto reparsed = mpx::tls::Passport::parse(printed);
  if (!reparsed || !reparsed.value() || !(*reparsed.value() == passport)) {
    __builtin_trap();
  }
  if (reparsed.value()->to_string() != printed) {
    __builtin_trap();
  }
  if (const auto why = passport.mismatch(subject_certificate())) {
    if (why->empty() || why->find('\n') != std::string::npos) {
      __builtin_trap();
    }
  }
  return 0;
}
