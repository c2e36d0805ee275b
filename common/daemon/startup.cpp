// start(): command line -> configuration -> logging (see startup.hpp).
#include "common/daemon/startup.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

#include "common/log/logging.hpp"
#include "common/version.hpp"

namespace mpx::daemon {
namespace {

spdlog::level::level_enum to_spdlog(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::critical:
      return spdlog::level::critical;
    case config::LogLevel::error:
      return spdlog::level::err;
    case config::LogLevel::warning:
      return spdlog::level::warn;
    case config::LogLevel::info:
      return spdlog::level::info;
    case config::LogLevel::debug:
      return spdlog::level::debug;
  }
  return spdlog::level::info;
}

log::Sink sink_for(const CommandLine& cli) {
  if (cli.systemd) {
    return log::Sink::kSystemd;
  }
  return cli.no_fork ? log::Sink::kConsole : log::Sink::kSyslog;
}

}  // namespace

std::variant<Started, ExitNow> start(int argc, const char* const* argv, const ProgramInfo& info,
                                     Role role) {
  auto parsed = parse_command_line(argc, argv, info, std::cout, std::cerr);
  if (auto* exit_now = std::get_if<ExitNow>(&parsed)) {
    return *exit_now;
  }
  Started started{std::get<CommandLine>(parsed), {}};
  try {
    started.config = config::load_config_dir(started.cli.config_dir);
  } catch (const config::ConfigError& e) {
    std::cerr << info.name << ": " << e.what() << "\n";
    return ExitNow{1};
  }
  const auto configured = role == Role::kDispatcher ? started.config.dispatcher.log_level
                                                    : started.config.relay.log_level;
  log::init({sink_for(started.cli), info.name,
             started.cli.debug ? spdlog::level::debug : to_spdlog(configured)});
  spdlog::info("{} {} starting; configuration: {}", info.name, kVersion,
               started.config.config_file.empty()
                   ? "defaults (no config.ini in " + started.config.config_dir.string() + ")"
                   : started.config.config_file.string());
  return started;
}

}  // namespace mpx::daemon
