// The daemons' command line, as MediaProxy's media-dispatcher/media-relay take it (spec 7.1), plus
// --pid. Parsed with Boost.Program_options.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>

namespace mpx::daemon {

struct ProgramInfo {
  std::string name;         // "mpx-dispatcher"
  std::string description;  // one line for --help
};

struct CommandLine {
  std::filesystem::path config_dir = "/etc/mediaproxy";
  std::filesystem::path runtime_dir = "/run/mediaproxy";
  std::optional<std::filesystem::path> pid_file;  // default: <runtime_dir>/<name>.pid when forking
  bool no_fork = false;       // stay in the foreground, log to the terminal
  bool systemd = false;       // simple systemd service: foreground, log to the journal
  bool debug = false;         // DEBUG level regardless of log_level
  bool debug_memory = false;  // accepted for MediaProxy compatibility; no effect
};

// Exit status to return right away (after --help, --version or a bad flag).
struct ExitNow {
  int status;
};

// Parses argv. --help and --version print to `out`; a bad flag prints one line plus a hint to
// `err` and yields ExitNow{2}.
std::variant<CommandLine, ExitNow> parse_command_line(int argc, const char* const* argv,
                                                      const ProgramInfo& info, std::ostream& out,
                                                      std::ostream& err);

}  // namespace mpx::daemon
