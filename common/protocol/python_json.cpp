// Python json.dumps()-compatible writer (see python_json.hpp).
#include "common/protocol/python_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <system_error>

namespace mpx::protocol {
namespace {

// Python's float repr: the shortest digits that round-trip, written positionally when the
// decimal exponent is in [-4, 16) (always with a fraction: "2.0"), else as "d.ddde+XX" with at
// least two exponent digits. nlohmann switches to exponents one decade earlier (1e15 vs
// 1000000000000000.0), so floats are formatted here from std::to_chars' shortest digits.
std::string python_float_repr(double value) {
  if (!std::isfinite(value)) {
    return "null";
  }
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value,
                                       std::chars_format::scientific);
  if (ec != std::errc{}) {
    return "null";  // cannot happen with 64 bytes; keeps the output valid JSON regardless
  }
  const std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
  const std::size_t e = text.find('e');
  const bool negative = text.front() == '-';
  std::string digits;  // mantissa digits without sign and point: d.ddd -> "dddd"
  for (const char c : text.substr(negative ? 1 : 0, e - (negative ? 1 : 0))) {
    if (c != '.') {
      digits += c;
    }
  }
  const int exponent = std::atoi(std::string(text.substr(e + 1)).c_str());
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    const int point = exponent + 1;  // digits before the decimal point
    if (point <= 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-point), '0');
      out += digits;
    } else if (static_cast<std::size_t>(point) >= digits.size()) {
      out += digits;
      out.append(static_cast<std::size_t>(point) - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(point));
      out += '.';
      out += digits.substr(static_cast<std::size_t>(point));
    }
    return out;
  }
  out += digits.front();
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  out += exponent < 0 ? "e-" : "e+";
  const int magnitude = std::abs(exponent);
  if (magnitude < 10) {
    out += '0';
  }
  out += std::to_string(magnitude);
  return out;
}

void write_scalar(const nlohmann::ordered_json& value, std::string& out) {
  if (value.is_number_float()) {
    out += python_float_repr(value.get<double>());
    return;
  }
  out += value.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
}

void write(const nlohmann::ordered_json& value, std::string& out) {
  if (value.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) {
        out += ", ";
      }
      first = false;
      write_scalar(nlohmann::ordered_json(key), out);
      out += ": ";
      write(item, out);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& item : value) {
      if (!first) {
        out += ", ";
      }
      first = false;
      write(item, out);
    }
    out += ']';
  } else {
    write_scalar(value, out);
  }
}

}  // namespace

std::string python_json_dump(const nlohmann::ordered_json& value) {
  std::string out;
  write(value, out);
  return out;
}

}  // namespace mpx::protocol
