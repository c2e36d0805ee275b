// The dialog identifiers the proxy modules send (protocol A `dialog_id` header) and the forms the
// proxies' "end dialog" commands accept.
//
// OpenSIPS: the mediaproxy module sends the dialog's 64-bit unique id in decimal,
// (h_entry << 32) | h_id. OpenSIPS 3.x's dlg_end_dlg rejects that decimal ("Requested Dialog not
// found") but accepts the dialog's own id as dlg_list prints it, "<h_entry in hex>.<h_id>".
// Example: the module sends 5063766441986 = 1179 * 2^32 + 2, so h_entry = 1179 (0x49b),
// h_id = 2, and mpx sends "49b.2".
//
// Kamailio: the module sends "h_entry:h_id" (two decimal 32-bit numbers); dlg.end_dlg takes them
// as two integer parameters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace mpx::dispatcher {

struct DialogHashId {
  std::uint32_t h_entry = 0;
  std::uint32_t h_id = 0;
  bool operator==(const DialogHashId&) const = default;
};

// Decimal digits only (no sign, no spaces), at most 2^64 - 1. Errors name the input.
Result<DialogHashId> parse_opensips_dialog_id(std::string_view decimal);

// "<h_entry>:<h_id>", both decimal digits only and within 32 bits.
Result<DialogHashId> parse_kamailio_dialog_id(std::string_view text);

// OpenSIPS 3.x's textual dialog id: lowercase hex h_entry, '.', decimal h_id ("49b.2").
std::string opensips_dialog_did(const DialogHashId& id);

}  // namespace mpx::dispatcher
