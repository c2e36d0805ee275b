// Forking and the PID file for both daemons; see detach.hpp.
#include "common/daemon/detach.hpp"

#include <filesystem>
#include <system_error>
#include <utility>

namespace mpx::daemon {

Result<std::optional<PidFile>> detach(const CommandLine& cli, const std::string& program,
                                      boost::asio::io_context& io, StartupReporter& reporter) {
  const bool fork = !cli.no_fork && !cli.systemd;
  if (fork) {
    io.notify_fork(boost::asio::execution_context::fork_prepare);
    auto daemon = daemonize(program);
    if (!daemon) {
      return Error{"cannot daemonize: " + daemon.error().message};
    }
    io.notify_fork(boost::asio::execution_context::fork_child);
    reporter = std::move(daemon).value();
  }
  std::optional<PidFile> pid_file;
  if (cli.pid_file || fork) {
    const auto path = cli.pid_file.value_or(cli.runtime_dir / (program + ".pid"));
    std::error_code ignored;
    std::filesystem::create_directories(path.parent_path(), ignored);
    auto created = PidFile::create(path);
    if (!created) {
      return created.error();
    }
    pid_file.emplace(std::move(created).value());
  }
  return pid_file;
}

}  // namespace mpx::daemon
