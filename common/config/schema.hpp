// The table of config.ini options: one row per (section, option) with the text that reproduces the
// default, the accepted forms shown in errors, and how the value is parsed and stored. Adding an
// option is one row in schema.cpp plus the member (and its default) in config.hpp.
#pragma once

#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "common/config/config.hpp"

namespace mpx::config::detail {

// Parses a value and stores it in the Config; the error is the parser's detail (may be empty).
using OptionSetter = std::function<mpx::Result<void>(Config&, std::string_view)>;

struct OptionSpec {
  std::string_view section;
  std::string_view name;
  // config.ini text giving the default value (parsing it leaves Config{} unchanged); for options
  // whose default is computed at run time (relay_ip...) the text that means "unset".
  std::string_view default_text;
  std::string_view accepted;  // shown after "accepted: " in errors
  bool hidden;                // MediaProxy reads it but its config.ini.sample does not list it
  OptionSetter set;
};

// Every section, in MediaProxy's order: Relay, Dispatcher, TLS, Database, Radius, OpenSIPS,
// ThorNetwork.
std::span<const std::string_view> section_names();

// Every option, grouped by section in section_names() order.
const std::vector<OptionSpec>& option_table();

// nullptr when the section has no such option. name as stored by the reader (lowercase).
const OptionSpec* find_option(std::string_view section, std::string_view name);

}  // namespace mpx::config::detail
