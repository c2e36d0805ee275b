// Passport: MediaProxy's optional extra check on the peer certificate's subject (spec 3.1). The
// config value is "AN:value[, AN:value...]" with AN in C, ST, L, O, OU, CN, EMAIL (emailAddress),
// "\," for a comma inside a value, or "None" (any case) for no check. A value starting with '*'
// requires the peer attribute to end with the rest, one ending with '*' to start with the rest,
// anything else exact equality; every listed attribute must match.
#pragma once

#include "common/result.hpp"

#include <openssl/x509.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mpx::tls {

enum class SubjectAttribute { C, ST, L, O, OU, CN, EMAIL };
inline constexpr std::size_t subject_attribute_count = 7;

// "C", "ST", ..., "EMAIL": the passport spelling.
std::string_view passport_name(SubjectAttribute attribute);

class Passport {
 public:
  // nullopt for "None"; an error (one line, no "passport:" prefix) for anything malformed:
  // unknown attribute, missing ':', empty entry or value, an attribute given twice, a value
  // ending with a backslash. Names are case-insensitive; names and values are trimmed.
  static Result<std::optional<Passport>> parse(std::string_view text);

  // nullopt when `cert` is accepted, else why not, ready for a log line:
  // "O='other test' does not match 'mpx*'", "CN is missing from the certificate subject".
  std::optional<std::string> mismatch(const X509* cert) const;

  // Canonical config form (C, ST, L, O, OU, CN, EMAIL order; commas escaped):
  // parse(to_string()) gives back an equal Passport.
  std::string to_string() const;

  // The required pattern for `attribute`, nullopt when the passport does not constrain it.
  const std::optional<std::string>& pattern(SubjectAttribute attribute) const;

  bool operator==(const Passport&) const = default;

 private:
  Passport() = default;
  std::array<std::optional<std::string>, subject_attribute_count> patterns_;
};

// One attribute's rule: "*rest" = ends with rest, "rest*" = starts with rest, else equality.
bool passport_value_matches(std::string_view pattern, std::string_view value);

}  // namespace mpx::tls
