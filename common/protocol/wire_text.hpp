// Small text rules shared by the protocol A and B parsers and encoders: which bytes a line may
// not carry, the header-line split at ": ", canonical decimal sequence numbers, headers lookup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mpx::protocol {

// One `name: value` line of protocol A or B, kept verbatim: the line is name + ": " + value.
struct Header {
  std::string name;
  std::string value;
  bool operator==(const Header&) const = default;
};

// The value of the LAST header called `name` (exact, case-sensitive), as MediaProxy's
// dict(header.split(": ", 1) ...) keeps the last duplicate. nullopt if there is none.
std::optional<std::string_view> find_header(const std::vector<Header>& headers,
                                            std::string_view name);

// True if `text` holds a CR, LF or NUL byte: such a byte inside a line means the sender
// mis-framed it, and it must never be echoed into another CRLF-framed stream.
bool has_line_breaking_byte(std::string_view text);

// Splits a header line at the first ": ". nullopt if the line has no ": ".
std::optional<Header> split_header_line(std::string_view line);

// A sequence number as mpx writes it: decimal digits, no sign, no leading zero (except "0"),
// within 64 bits. nullopt for anything else.
std::optional<std::uint64_t> parse_sequence_number(std::string_view text);

// Quotes text for an error message: at most 64 bytes, non-printable bytes as \xNN.
std::string quote_for_error(std::string_view text);

}  // namespace mpx::protocol
