// Command-line parsing for both daemons (see cli.hpp).
#include "common/daemon/cli.hpp"

#include <boost/program_options.hpp>

#include <ostream>

#include "common/version.hpp"

namespace mpx::daemon {

namespace po = boost::program_options;

std::variant<CommandLine, ExitNow> parse_command_line(int argc, const char* const* argv,
                                                      const ProgramInfo& info, std::ostream& out,
                                                      std::ostream& err) {
  CommandLine cli;
  std::string pid_file;
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help and exit")
      ("version", "show the version and exit")
      ("config-dir", po::value<std::filesystem::path>(&cli.config_dir)->value_name("PATH"),
       "directory holding config.ini and tls/ (default /etc/mediaproxy)")
      ("runtime-dir", po::value<std::filesystem::path>(&cli.runtime_dir)->value_name("PATH"),
       "directory for sockets and the PID file (default /run/mediaproxy)")
      ("pid", po::value<std::string>(&pid_file)->value_name("FILE"),
       "PID file (default <runtime-dir>/<program>.pid when forking)")
      ("no-fork", po::bool_switch(&cli.no_fork), "run in the foreground and log to the terminal")
      ("systemd", po::bool_switch(&cli.systemd),
       "run as a simple systemd service and log to the journal")
      ("debug", po::bool_switch(&cli.debug), "log at DEBUG level")
      ("debug-memory", po::bool_switch(&cli.debug_memory),
       "accepted for MediaProxy compatibility; has no effect");

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    err << info.name << ": " << e.what() << " (see " << info.name << " --help)\n";
    return ExitNow{2};
  }
  if (vm.count("help") != 0) {
    out << info.name << " " << kVersion << ": " << info.description << "\n\n"
        << "Usage: " << info.name << " [options]\n\n"
        << options;
    return ExitNow{0};
  }
  if (vm.count("version") != 0) {
    out << info.name << " " << kVersion << "\n";
    return ExitNow{0};
  }
  if (!pid_file.empty()) {
    cli.pid_file = pid_file;
  }
  return cli;
}

}  // namespace mpx::daemon
