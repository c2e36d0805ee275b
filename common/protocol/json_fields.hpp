// Typed reading of a decoded JSON object's keys for the statistics and summary models: each
// read names the key and the object it belongs to when the key is missing or mistyped, and the
// first failure is kept so a decoder reads every field and checks once at the end.
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mpx::protocol::detail {

// Parses text into a JSON value; the error carries nlohmann's position message, prefixed by
// `what` ("session statistics", ...).
Result<nlohmann::json> parse_json_text(std::string_view text, std::string_view what);

// parse_json_text(), then `decode` (a *_from_json_value function) on the value.
template <class Decode>
auto decode_json_text(std::string_view text, std::string_view what, Decode decode)
    -> decltype(decode(std::declval<const nlohmann::json&>())) {
  auto value = parse_json_text(text, what);
  if (!value) {
    return value.error();
  }
  return decode(value.value());
}

class JsonFieldReader {
 public:
  // `object` must outlive the reader. `where` names it in errors: "session statistics",
  // "session statistics streams[2]", ... A non-object is reported at once.
  JsonFieldReader(const nlohmann::json& object, std::string where);

  // Required keys: missing or of another JSON type is an error. Integers must be JSON
  // integers within range (no fraction, no exponent); doubles accept any finite JSON number.
  void read(std::string_view key, std::string& out);
  void read(std::string_view key, std::int64_t& out);
  void read(std::string_view key, std::uint64_t& out);
  void read(std::string_view key, double& out);
  void read(std::string_view key, bool& out);
  // Required keys that may be null.
  void read(std::string_view key, std::optional<std::string>& out);
  void read(std::string_view key, std::optional<double>& out);
  // A required object of non-negative integers, each read as above; its errors name the object
  // as "<where> <key>".
  void read(std::string_view key, std::map<std::string, std::uint64_t>& out);

  // The value of `key` if present (nullptr if absent). Does not fail.
  const nlohmann::json* find(std::string_view key) const;
  // The value of a required key of the given type (array/object), nullptr after recording an
  // error if it is missing or mistyped.
  const nlohmann::json* require_array(std::string_view key);
  const nlohmann::json* require_object(std::string_view key);

  void fail(std::string message);
  bool failed() const { return error_.has_value(); }
  const std::string& where() const { return where_; }
  Error error() const { return Error{*error_}; }

 private:
  const nlohmann::json* require(std::string_view key);
  void wrong_type(std::string_view key, std::string_view expected, const nlohmann::json& got);

  const nlohmann::json& object_;
  std::string where_;
  std::optional<std::string> error_;
};

}  // namespace mpx::protocol::detail
