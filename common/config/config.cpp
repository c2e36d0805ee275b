// From INI document to typed Config: checks sections and options against the schema table and
// turns every failure into one ConfigError line.
#include "common/config/config.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/config/diagnostics.hpp"
#include "common/config/ini_reader.hpp"
#include "common/config/schema.hpp"

namespace mpx::config {
namespace {

using detail::location;
using detail::printable;

std::string joined(std::span<const std::string_view> names) {
  std::string out;
  for (const auto name : names) {
    if (!out.empty()) {
      out += ", ";
    }
    out += name;
  }
  return out;
}

std::string options_of(std::string_view section) {
  std::vector<std::string_view> names;
  for (const auto& spec : detail::option_table()) {
    if (spec.section == section) {
      names.push_back(spec.name);
    }
  }
  return joined(names);
}

bool is_known_section(std::string_view name) {
  const auto names = detail::section_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// configparser section names are case-sensitive: MediaProxy silently ignores [relay].
std::string case_hint(std::string_view name) {
  for (const auto known : detail::section_names()) {
    const bool same = std::equal(known.begin(), known.end(), name.begin(), name.end(),
                                 [](char a, char b) { return (a | 0x20) == (b | 0x20); });
    if (same) {
      return fmt::format(" (section names are case-sensitive: write [{}])", known);
    }
  }
  return {};
}

}  // namespace

mpx::Result<Config> try_parse_config(std::string_view text, const std::string& file_label,
                                     const std::filesystem::path& config_dir) {
  const std::string label = file_label.empty() ? std::string("config.ini") : file_label;
  auto document = detail::read_ini(text, label);
  if (!document) {
    return document.error();
  }
  Config config;
  config.config_dir = config_dir;
  config.config_file = file_label;
  for (const auto& section : document.value().sections) {
    if (!is_known_section(section.name)) {
      return mpx::Error{location(label, section.line) +
                        fmt::format("[{}]: unknown section; accepted: {}{}",
                                    printable(section.name, 60), joined(detail::section_names()),
                                    case_hint(section.name))};
    }
    for (const auto& option : section.options) {
      const auto* spec = detail::find_option(section.name, option.name);
      if (spec == nullptr) {
        return mpx::Error{location(label, option.line) +
                          fmt::format("[{}] {}: unknown option; accepted options in [{}]: {}",
                                      section.name, printable(option.name, 60), section.name,
                                      options_of(section.name))};
      }
      auto stored = spec->set(config, option.value);
      if (!stored) {
        const auto& detail = stored.error().message;
        return mpx::Error{location(label, option.line) +
                          fmt::format("[{}] {} = {}: invalid value{}; accepted: {}", section.name,
                                      option.name, printable(option.value),
                                      detail.empty() ? "" : " (" + detail + ")", spec->accepted)};
      }
      config.option_lines.emplace(fmt::format("{}.{}", section.name, option.name), option.line);
    }
  }
  return config;
}

Config parse_config(std::string_view text, const std::string& file_label,
                    const std::filesystem::path& config_dir) {
  auto config = try_parse_config(text, file_label, config_dir);
  if (!config) {
    throw ConfigError(config.error().message);
  }
  return std::move(config).value();
}

std::filesystem::path Config::certs_dir() const {
  return tls.certs_path.is_absolute() ? tls.certs_path : config_dir / tls.certs_path;
}

std::filesystem::path Config::dispatcher_socket_path(
    const std::filesystem::path& runtime_dir) const {
  return dispatcher.socket_path.is_absolute() ? dispatcher.socket_path
                                              : runtime_dir / dispatcher.socket_path;
}

std::string Config::describe_option(std::string_view section, std::string_view option) const {
  const auto line = option_lines.find(fmt::format("{}.{}", section, option));
  if (line == option_lines.end()) {
    return fmt::format("[{}] {}", section, option);
  }
  const std::string file = config_file.empty() ? std::string("config.ini") : config_file.string();
  return location(file, line->second) + fmt::format("[{}] {}", section, option);
}

std::string_view to_string(Datapath datapath) {
  switch (datapath) {
    case Datapath::conntrack:
      return "conntrack";
    case Datapath::xdp:
      return "xdp";
    case Datapath::tc:
      return "tc";
    case Datapath::userspace:
      return "userspace";
  }
  return "unknown";
}

std::string_view to_string(XdpMode mode) {
  return mode == XdpMode::native ? "native" : "generic";
}

std::string_view to_string(LatchingPolicy policy) {
  switch (policy) {
    case LatchingPolicy::strict:
      return "strict";
    case LatchingPolicy::signalled_only:
      return "signalled_only";
    case LatchingPolicy::first_packet:
      return "first_packet";
  }
  return "unknown";
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::critical:
      return "CRITICAL";
    case LogLevel::error:
      return "ERROR";
    case LogLevel::warning:
      return "WARNING";
    case LogLevel::info:
      return "INFO";
    case LogLevel::debug:
      return "DEBUG";
  }
  return "unknown";
}

std::string_view to_string(AccountingBackend backend) {
  switch (backend) {
    case AccountingBackend::database:
      return "database";
    case AccountingBackend::radius:
      return "radius";
  }
  return "unknown";
}

std::string_view to_string(SipProxy proxy) {
  switch (proxy) {
    case SipProxy::opensips:
      return "opensips";
    case SipProxy::kamailio:
      return "kamailio";
    case SipProxy::none:
      return "none";
  }
  return "unknown";
}

}  // namespace mpx::config
