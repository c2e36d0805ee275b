// load_config_dir: finds and reads <dir>/config.ini. Filesystem failures are ConfigErrors; a
// missing config.ini is not (MediaProxy then runs on its defaults).
#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <system_error>

#include "common/config/config.hpp"
#include "common/config/ini_reader.hpp"

namespace mpx::config {

Config load_config_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path absolute_dir = fs::absolute(dir, error);
  if (error) {
    throw ConfigError(fmt::format("{}: cannot resolve the configuration directory: {}",
                                  dir.string(), error.message()));
  }
  const auto dir_status = fs::status(absolute_dir, error);
  if (dir_status.type() == fs::file_type::not_found || (!error && !fs::is_directory(dir_status))) {
    throw ConfigError(fmt::format(
        "{}: configuration directory does not exist or is not a directory", absolute_dir.string()));
  }
  if (error) {
    throw ConfigError(fmt::format("{}: configuration directory cannot be read: {}",
                                  absolute_dir.string(), error.message()));
  }
  // Opening the directory proves it is readable; a later failure would otherwise look like a
  // missing config.ini and silently give defaults.
  fs::directory_iterator probe(absolute_dir, error);
  if (error) {
    throw ConfigError(fmt::format("{}: configuration directory cannot be read: {}",
                                  absolute_dir.string(), error.message()));
  }
  const fs::path file = absolute_dir / "config.ini";
  const auto status = fs::status(file, error);
  if (status.type() == fs::file_type::not_found) {
    Config defaults;
    defaults.config_dir = absolute_dir;
    return defaults;
  }
  if (error || !fs::is_regular_file(status)) {
    throw ConfigError(fmt::format("{}: not a readable regular file{}", file.string(),
                                  error ? ": " + error.message() : std::string()));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw ConfigError(fmt::format("{}: cannot be opened for reading", file.string()));
  }
  std::string text;
  text.reserve(4096);
  // One byte more than the limit so an oversized file is reported by the reader.
  std::istreambuf_iterator<char> it(in);
  const std::istreambuf_iterator<char> end;
  while (it != end && text.size() <= detail::max_ini_bytes) {
    text.push_back(*it);
    ++it;
  }
  if (in.bad()) {
    throw ConfigError(fmt::format("{}: read error", file.string()));
  }
  auto config = parse_config(text, file.string(), absolute_dir);
  return config;
}

}  // namespace mpx::config
