// mpxctl: the operator's management client for mpx-dispatcher. This first cut knows its command
// line; the sessions/summary/top commands arrive with the management interface.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>

#include "common/version.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help and exit")("version", "show the version and exit")(
      "command", po::value<std::string>(), "sessions | summary | top");
  po::positional_options_description positional;
  positional.add("command", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "mpxctl: " << e.what() << " (see mpxctl --help)\n";
    return 2;
  }
  if (vm.count("version") != 0) {
    std::cout << "mpxctl " << mpx::kVersion << "\n";
    return 0;
  }
  if (vm.count("help") != 0 || vm.count("command") == 0) {
    std::cout << "mpxctl " << mpx::kVersion << ": query a running mpx-dispatcher\n\n"
              << "Usage: mpxctl [options] sessions|summary|top\n\n"
              << options;
    return vm.count("help") != 0 ? 0 : 2;
  }
  std::cerr << "mpxctl: '" << vm["command"].as<std::string>()
            << "' is not available in this build: the management interface is not implemented yet\n";
  return 2;
}
