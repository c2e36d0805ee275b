// mpx-relay's entry point: the configuration and command line, the relay assembled and checked
// (RelayDaemon: every failure is one line on the terminal and exit status 1), daemonizing and the
// PID file, then the event loop until a signal stops it (relay/daemon/relay_daemon.hpp says
// which signal does what).
#include <boost/asio/io_context.hpp>

#include <spdlog/spdlog.h>

#include <iostream>
#include <string>

#include "common/daemon/detach.hpp"
#include "common/daemon/startup.hpp"
#include "relay/daemon/relay_daemon.hpp"

namespace {

constexpr const char* kProgram = "mpx-relay";

int fail(mpx::daemon::StartupReporter& reporter, const std::string& line) {
  spdlog::error("{}", line);
  std::cerr << kProgram << ": " << line << "\n";
  reporter.failed(line);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const mpx::daemon::ProgramInfo info{kProgram, "MediaProxy-compatible media relay"};
  auto started = mpx::daemon::start(argc, argv, info, mpx::daemon::Role::kRelay);
  if (const auto* exit_now = std::get_if<mpx::daemon::ExitNow>(&started)) {
    return exit_now->status;
  }
  const auto& [cli, config] = std::get<mpx::daemon::Started>(started);
  mpx::daemon::StartupReporter reporter;

  boost::asio::io_context io(1);
  auto relay = mpx::relay::daemon::RelayDaemon::create(io, config, cli.runtime_dir);
  if (!relay) {
    return fail(reporter, relay.error().message);
  }
  auto detached = mpx::daemon::detach(cli, kProgram, io, reporter);
  if (!detached) {
    return fail(reporter, detached.error().message);
  }
  const auto pid_file = std::move(detached).value();
  relay.value()->start();
  reporter.ready();
  io.run();
  relay.value()->finish();
  spdlog::info("{} stopped", kProgram);
  return 0;
}
