// JSON text exactly as MediaProxy's Python writes it with json.dumps() defaults: one line, item
// separator ", ", key separator ": ", ensure_ascii (non-ASCII as \uXXXX, surrogate pairs above
// U+FFFF), key order as given. nlohmann::ordered_json keeps the order but its dump() has no
// separator option, so containers are written here, strings/integers by nlohmann's dump (its
// ensure_ascii escaping matches Python's) and floats by a Python-repr formatter.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace mpx::protocol {

// Invalid UTF-8 in strings becomes U+FFFD instead of throwing. Non-finite doubles become null
// (Python would write NaN/Infinity, which is not JSON). Nesting is written recursively: use it
// for values mpx built, not for arbitrary decoded input.
std::string python_json_dump(const nlohmann::ordered_json& value);

}  // namespace mpx::protocol
