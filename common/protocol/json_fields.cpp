// Typed JSON key reading with key-naming errors (see json_fields.hpp).
#include "common/protocol/json_fields.hpp"

#include <cmath>
#include <limits>

namespace mpx::protocol::detail {

Result<nlohmann::json> parse_json_text(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Error{std::string{what} + ": invalid JSON: " + e.what()};
  }
}

JsonFieldReader::JsonFieldReader(const nlohmann::json& object, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) {
    fail(where_ + " must be a JSON object (got " + object_.type_name() + ")");
  }
}

void JsonFieldReader::fail(std::string message) {
  if (!error_) {
    error_ = std::move(message);
  }
}

const nlohmann::json* JsonFieldReader::find(std::string_view key) const {
  if (!object_.is_object()) {
    return nullptr;
  }
  const auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

const nlohmann::json* JsonFieldReader::require(std::string_view key) {
  if (failed()) {
    return nullptr;
  }
  const nlohmann::json* value = find(key);
  if (value == nullptr) {
    fail(where_ + ": key \"" + std::string{key} + "\" is missing");
  }
  return value;
}

void JsonFieldReader::wrong_type(std::string_view key, std::string_view expected,
                                 const nlohmann::json& got) {
  fail(where_ + ": key \"" + std::string{key} + "\" must be " + std::string{expected} + " (got " +
       (got.is_number_float() ? std::string{"a non-integer or out-of-range number"} : std::string{got.type_name()}) +
       ")");
}

void JsonFieldReader::read(std::string_view key, std::string& out) {
  if (const auto* value = require(key)) {
    if (value->is_string()) {
      out = value->get<std::string>();
    } else {
      wrong_type(key, "a string", *value);
    }
  }
}

void JsonFieldReader::read(std::string_view key, std::int64_t& out) {
  if (const auto* value = require(key)) {
    if (value->is_number_unsigned()) {
      const auto u = value->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        fail(where_ + ": key \"" + std::string{key} + "\" is out of the 64-bit signed range");
        return;
      }
      out = static_cast<std::int64_t>(u);
    } else if (value->is_number_integer()) {
      out = value->get<std::int64_t>();
    } else {
      wrong_type(key, "an integer", *value);
    }
  }
}

void JsonFieldReader::read(std::string_view key, std::uint64_t& out) {
  if (const auto* value = require(key)) {
    if (value->is_number_unsigned()) {
      out = value->get<std::uint64_t>();
    } else if (value->is_number_integer()) {
      fail(where_ + ": key \"" + std::string{key} + "\" must not be negative");
    } else {
      wrong_type(key, "a non-negative integer", *value);
    }
  }
}

void JsonFieldReader::read(std::string_view key, double& out) {
  if (const auto* value = require(key)) {
    if (!value->is_number()) {
      wrong_type(key, "a number", *value);
      return;
    }
    const auto number = value->get<double>();
    if (!std::isfinite(number)) {
      fail(where_ + ": key \"" + std::string{key} + "\" is not a finite number");
      return;
    }
    out = number;
  }
}

void JsonFieldReader::read(std::string_view key, bool& out) {
  if (const auto* value = require(key)) {
    if (value->is_boolean()) {
      out = value->get<bool>();
    } else {
      wrong_type(key, "true or false", *value);
    }
  }
}

void JsonFieldReader::read(std::string_view key, std::optional<std::string>& out) {
  if (const auto* value = require(key)) {
    if (value->is_null()) {
      out.reset();
    } else if (value->is_string()) {
      out = value->get<std::string>();
    } else {
      wrong_type(key, "a string or null", *value);
    }
  }
}

void JsonFieldReader::read(std::string_view key, std::optional<double>& out) {
  if (const auto* value = require(key)) {
    if (value->is_null()) {
      out.reset();
      return;
    }
    double number = 0;
    read(key, number);
    if (!failed()) {
      out = number;
    }
  }
}

void JsonFieldReader::read(std::string_view key, std::map<std::string, std::uint64_t>& out) {
  const auto* object = require_object(key);
  if (object == nullptr) {
    return;
  }
  std::string where = where_;
  where += ' ';
  where += key;
  JsonFieldReader entries(*object, std::move(where));
  for (const auto& entry : object->items()) {
    entries.read(entry.key(), out[entry.key()]);
  }
  if (entries.failed()) {
    fail(*entries.error_);
  }
}

const nlohmann::json* JsonFieldReader::require_array(std::string_view key) {
  const auto* value = require(key);
  if (value != nullptr && !value->is_array()) {
    wrong_type(key, "an array", *value);
    return nullptr;
  }
  return value;
}

const nlohmann::json* JsonFieldReader::require_object(std::string_view key) {
  const auto* value = require(key);
  if (value != nullptr && !value->is_object()) {
    wrong_type(key, "an object", *value);
    return nullptr;
  }
  return value;
}

}  // namespace mpx::protocol::detail
