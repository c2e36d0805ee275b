// mpx-dispatcher entry point. Until the dispatcher's services land (module socket, relay links,
// management) it checks its command line and configuration, says what it would serve, and exits.
#include <spdlog/spdlog.h>

#include "common/daemon/startup.hpp"

int main(int argc, char** argv) {
  const mpx::daemon::ProgramInfo info{"mpx-dispatcher",
                                      "MediaProxy-compatible media dispatcher for OpenSIPS/Kamailio"};
  auto started = mpx::daemon::start(argc, argv, info, mpx::daemon::Role::kDispatcher);
  if (const auto* exit_now = std::get_if<mpx::daemon::ExitNow>(&started)) {
    return exit_now->status;
  }
  const auto& [cli, config] = std::get<mpx::daemon::Started>(started);
  spdlog::info("configuration OK: module socket {}, relays on port {}, management on port {} ({})",
               config.dispatcher_socket_path(cli.runtime_dir).string(),
               config.dispatcher.listen.port, config.dispatcher.listen_management.port,
               config.dispatcher.management_use_tls ? "TLS" : "plain TCP");
  spdlog::warn("the dispatcher's services are not implemented in this version; exiting");
  return 0;
}
