// Process-wide logging for the daemons: one spdlog default logger whose sink is chosen at start-up
// (console with --no-fork, journal-friendly stderr with --systemd, syslog when daemonized), and
// the SIGUSR1 debug toggle MediaProxy operators know.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace mpx::log {

enum class Sink {
  kConsole,  // coloured, timestamped lines on stderr (--no-fork)
  kSystemd,  // "<N>message" lines on stderr: journald reads the priority, adds its own time
  kSyslog,   // syslog(3), facility daemon (the default for a forked daemon)
};

struct Setup {
  Sink sink = Sink::kConsole;
  std::string ident;  // program name: syslog ident and console prefix
  spdlog::level::level_enum level = spdlog::level::info;
};

// Replaces the default logger. Safe to call again (e.g. after daemonizing switches the sink).
void init(const Setup& setup);

// The level chosen by configuration (what toggle_debug() returns to).
void set_configured_level(spdlog::level::level_enum level);

// SIGUSR1: switches between DEBUG and the configured level; returns the level now in force.
spdlog::level::level_enum toggle_debug();

}  // namespace mpx::log
