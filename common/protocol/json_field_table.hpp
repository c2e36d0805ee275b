// The statistics and summary objects as tables: each entry pairs a JSON key with the struct
// member that holds its value, and one table drives both the writer and the reader, so the two
// can never disagree on a key. The table's order is the order a peer sees the keys in
// (MediaProxy's, kept because consumers may compare the text), and the reader reads the keys in
// that same order, so the first missing or mistyped key is the one an error names.
#pragma once

#include "common/protocol/json_fields.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace mpx::protocol::detail {

template <class Struct, class Member>
struct JsonField {
  std::string_view key;
  Member Struct::*member;
};
template <class Struct, class Member>
JsonField(std::string_view, Member Struct::*) -> JsonField<Struct, Member>;

// A member's JSON value; an empty optional is null.
template <class T>
nlohmann::ordered_json json_value(const T& value) {
  return nlohmann::ordered_json(value);
}
template <class T>
nlohmann::ordered_json json_value(const std::optional<T>& value) {
  return value ? json_value(*value) : nlohmann::ordered_json(nullptr);
}

// Appends the table's keys to `out`, in the table's order. `table` is a std::tuple of JsonFields.
template <class Struct, class Table>
void write_fields(const Struct& in, const Table& table, nlohmann::ordered_json& out) {
  std::apply(
      [&](const auto&... field) {
        ((out[std::string{field.key}] = json_value(in.*field.member)), ...);
      },
      table);
}

// Reads the table's keys into `out`, in the table's order; `reader` keeps the first failure.
template <class Struct, class Table>
void read_fields(JsonFieldReader& reader, const Table& table, Struct& out) {
  std::apply([&](const auto&... field) { (reader.read(field.key, out.*field.member), ...); },
             table);
}

// A whole object read through its table: the struct, or the first failure. `where` names the
// object in errors.
template <class Struct, class Table>
Result<Struct> read_object(const nlohmann::json& value, std::string where, const Table& table) {
  JsonFieldReader reader(value, std::move(where));
  Struct out;
  read_fields(reader, table, out);
  if (reader.failed()) {
    return reader.error();
  }
  return out;
}

}  // namespace mpx::protocol::detail
