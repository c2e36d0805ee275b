// Subject attribute extraction and one-line renderings for common/tls messages.
#include "common/tls/x509_text.hpp"

#include "common/tls/openssl_ptr.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>

#include <cstdio>

namespace mpx::tls {

std::optional<std::string> subject_attribute(const X509* cert, int nid) {
  if (cert == nullptr) {
    return std::nullopt;
  }
  const X509_NAME* name = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) {
    return std::nullopt;
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) {
    return std::nullopt;
  }
  std::string value(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return value;
}

std::string subject_line(const X509* cert) {
  if (cert == nullptr) {
    return "(no certificate)";
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) {
    return "(out of memory)";
  }
  // OpenSSL's one-line form without spaces around '=' and with UTF-8 left as is; control
  // characters are escaped by ASN1_STRFLGS_ESC_CTRL, part of XN_FLAG_ONELINE.
  constexpr unsigned long flags =
      (static_cast<unsigned long>(XN_FLAG_ONELINE) & ~static_cast<unsigned long>(XN_FLAG_SPC_EQ) &
       ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB)) |
      static_cast<unsigned long>(ASN1_STRFLGS_UTF8_CONVERT);
  if (X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, flags) < 0) {
    return "(unprintable subject)";
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return printable(std::string_view(data, static_cast<std::size_t>(length)));
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(byte));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace mpx::tls
