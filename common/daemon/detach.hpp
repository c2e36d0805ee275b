// detach(): the common last step of both daemons' start-up, once everything that can fail on the
// terminal has been checked: fork into the background unless --no-fork/--systemd (the parent
// then waits for the reporter's verdict), and write the PID file when asked for or when forked.
#pragma once

#include <boost/asio/io_context.hpp>

#include <optional>
#include <string>

#include "common/daemon/cli.hpp"
#include "common/daemon/daemonize.hpp"
#include "common/daemon/pid_file.hpp"
#include "common/result.hpp"

namespace mpx::daemon {

// `reporter` is replaced by the forked child's. The error is one line ("cannot daemonize: ..."
// or the PID file's). The PID file defaults to <runtime dir>/<program>.pid.
Result<std::optional<PidFile>> detach(const CommandLine& cli, const std::string& program,
                                      boost::asio::io_context& io, StartupReporter& reporter);

}  // namespace mpx::daemon
