// mpx-dispatcher entry point: configuration and command line, the dispatcher built from them
// (DispatcherDaemon: a failure is one clear line and exit status 1, reported before daemonizing),
// daemonizing and the PID file, then the dispatcher runs until a stop signal.
#include <boost/asio/io_context.hpp>

#include <spdlog/spdlog.h>

#include <iostream>
#include <string>

#include "common/daemon/detach.hpp"
#include "common/daemon/startup.hpp"
#include "dispatcher/dispatcher_daemon.hpp"

namespace {

constexpr const char* kProgram = "mpx-dispatcher";

int fail(mpx::daemon::StartupReporter& reporter, const std::string& line) {
  spdlog::error("{}", line);
  std::cerr << kProgram << ": " << line << "\n";
  reporter.failed(line);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const mpx::daemon::ProgramInfo info{kProgram,
                                      "MediaProxy-compatible media dispatcher for OpenSIPS/Kamailio"};
  auto started = mpx::daemon::start(argc, argv, info, mpx::daemon::Role::kDispatcher);
  if (const auto* exit_now = std::get_if<mpx::daemon::ExitNow>(&started)) {
    return exit_now->status;
  }
  const auto& [cli, config] = std::get<mpx::daemon::Started>(started);

  boost::asio::io_context io(1);
  mpx::daemon::StartupReporter reporter;
  auto dispatcher = mpx::dispatcher::DispatcherDaemon::build(io, config, cli.runtime_dir);
  if (!dispatcher) {
    return fail(reporter, dispatcher.error().message);
  }
  auto detached = mpx::daemon::detach(cli, kProgram, io, reporter);
  if (!detached) {
    dispatcher.value()->stop();
    return fail(reporter, detached.error().message);
  }
  const auto pid_file = std::move(detached).value();
  dispatcher.value()->run(reporter);
  spdlog::info("{} stopped", kProgram);
  return 0;
}
