// mpx-relay entry point. Until the relay's services land (dispatcher links, sessions, datapaths)
// it checks its command line and configuration, says what it would run, and exits.
#include <spdlog/spdlog.h>

#include "common/daemon/startup.hpp"

int main(int argc, char** argv) {
  const mpx::daemon::ProgramInfo info{"mpx-relay", "MediaProxy-compatible media relay"};
  auto started = mpx::daemon::start(argc, argv, info, mpx::daemon::Role::kRelay);
  if (const auto* exit_now = std::get_if<mpx::daemon::ExitNow>(&started)) {
    return exit_now->status;
  }
  const auto& config = std::get<mpx::daemon::Started>(started).config;
  spdlog::info("configuration OK: datapath {}, ports {}:{}, {} dispatcher(s)",
               mpx::config::to_string(config.relay.datapath), config.relay.port_range.start,
               config.relay.port_range.end, config.relay.dispatchers.size());
  spdlog::warn("the relay's services are not implemented in this version; exiting");
  return 0;
}
