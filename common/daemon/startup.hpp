// Start-up shared by both daemons: command line, configuration (a broken one stops here with its
// one clear line on stderr and exit status 1), and logging at the configured level.
// Forking (daemonize.hpp) and the PID file (pid_file.hpp) come after the daemon has bound its
// sockets, so a failure to bind still reaches the terminal.
#pragma once

#include <variant>

#include "common/config/config.hpp"
#include "common/daemon/cli.hpp"

namespace mpx::daemon {

// Which section's log_level governs the daemon.
enum class Role { kDispatcher, kRelay };

struct Started {
  CommandLine cli;
  config::Config config;
};

std::variant<Started, ExitNow> start(int argc, const char* const* argv, const ProgramInfo& info,
                                     Role role);

}  // namespace mpx::daemon
