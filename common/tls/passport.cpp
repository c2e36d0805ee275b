// Passport parsing (MediaProxy's X509NameValidator grammar), matching and canonical printing.
#include "common/tls/passport.hpp"

#include <openssl/obj_mac.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "common/tls/x509_text.hpp"

namespace mpx::tls {
namespace {

struct AttributeInfo {
  SubjectAttribute attribute;
  std::string_view name;
  int nid;
};

constexpr std::array<AttributeInfo, subject_attribute_count> attributes{{
    {SubjectAttribute::C, "C", NID_countryName},
    {SubjectAttribute::ST, "ST", NID_stateOrProvinceName},
    {SubjectAttribute::L, "L", NID_localityName},
    {SubjectAttribute::O, "O", NID_organizationName},
    {SubjectAttribute::OU, "OU", NID_organizationalUnitName},
    {SubjectAttribute::CN, "CN", NID_commonName},
    {SubjectAttribute::EMAIL, "EMAIL", NID_pkcs9_emailAddress},
}};

constexpr std::string_view whitespace = " \t\r\n\f\v";

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(whitespace);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(whitespace);
  return text.substr(first, last - first + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::toupper(static_cast<unsigned char>(x)) ==
           std::toupper(static_cast<unsigned char>(y));
  });
}

// Entries are separated by commas that are not escaped as "\," (MediaProxy splits on the regex
// (?<!\\),\s* and so has no way to escape the backslash itself).
std::vector<std::string_view> split_entries(std::string_view text) {
  std::vector<std::string_view> entries;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ',' && (i == 0 || text[i - 1] != '\\')) {
      entries.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  entries.push_back(text.substr(start));
  return entries;
}

std::string unescape_commas(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == ',') {
      continue;  // drop the backslash of "\,"
    }
    out += text[i];
  }
  return out;
}

std::string escape_commas(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == ',') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string in_quotes(std::string_view text) { return "'" + printable(text) + "'"; }

const AttributeInfo* find_attribute(std::string_view name) {
  for (const auto& info : attributes) {
    if (iequals(info.name, name)) {
      return &info;
    }
  }
  return nullptr;
}

std::size_t index_of(SubjectAttribute attribute) { return static_cast<std::size_t>(attribute); }

}  // namespace

std::string_view passport_name(SubjectAttribute attribute) {
  return attributes[index_of(attribute)].name;
}

bool passport_value_matches(std::string_view pattern, std::string_view value) {
  if (!pattern.empty() && pattern.front() == '*') {
    return value.ends_with(pattern.substr(1));
  }
  if (!pattern.empty() && pattern.back() == '*') {
    return value.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return value == pattern;
}

Result<std::optional<Passport>> Passport::parse(std::string_view text) {
  const std::string_view trimmed = trim(text);
  if (iequals(trimmed, "none")) {
    return std::optional<Passport>{};
  }
  if (trimmed.empty()) {
    return Error{"empty passport (use None to disable the check)"};
  }
  Passport passport;
  for (const std::string_view raw_entry : split_entries(trimmed)) {
    const std::string entry = unescape_commas(raw_entry);
    if (trim(entry).empty()) {
      return Error{"empty entry in " + in_quotes(trimmed) + " (stray comma?)"};
    }
    const auto colon = entry.find(':');
    if (colon == std::string::npos) {
      return Error{"entry " + in_quotes(trim(entry)) + " is not of the form AN:value"};
    }
    const std::string_view name = trim(std::string_view(entry).substr(0, colon));
    const AttributeInfo* info = find_attribute(name);
    if (info == nullptr) {
      return Error{"unknown attribute " + in_quotes(name) +
                   " (expected C, ST, L, O, OU, CN or EMAIL)"};
    }
    const std::string_view value = trim(std::string_view(entry).substr(colon + 1));
    if (value.empty()) {
      return Error{"empty value for " + std::string(info->name)};
    }
    // A trailing backslash would turn the separator after it into an escaped comma.
    if (value.back() == '\\') {
      return Error{"value of " + std::string(info->name) + " ends with a backslash"};
    }
    auto& slot = passport.patterns_[index_of(info->attribute)];
    if (slot.has_value()) {
      return Error{std::string(info->name) + " is given twice"};
    }
    slot = std::string(value);
  }
  return std::optional<Passport>{std::move(passport)};
}

std::optional<std::string> Passport::mismatch(const X509* cert) const {
  if (cert == nullptr) {
    return "no certificate to check";
  }
  for (const auto& info : attributes) {
    const auto& pattern = patterns_[index_of(info.attribute)];
    if (!pattern) {
      continue;
    }
    const auto value = subject_attribute(cert, info.nid);
    if (!value) {
      return std::string(info.name) + " is missing from the certificate subject (expected " +
             in_quotes(*pattern) + ")";
    }
    if (!passport_value_matches(*pattern, *value)) {
      return std::string(info.name) + "=" + in_quotes(*value) + " does not match " +
             in_quotes(*pattern);
    }
  }
  return std::nullopt;
}

std::string Passport::to_string() const {
  std::string out;
  for (const auto& info : attributes) {
    const auto& pattern = patterns_[index_of(info.attribute)];
    if (!pattern) {
      continue;
    }
    if (!out.empty()) {
      out += ", ";
    }
    out += info.name;
    out += ':';
    out += escape_commas(*pattern);
  }
  return out;
}

const std::optional<std::string>& Passport::pattern(SubjectAttribute attribute) const {
  return patterns_[index_of(attribute)];
}

}  // namespace mpx::tls
