// mpxctl: the operator's client for mpx-dispatcher's management interface (compat spec 4).
// Exit status: 0 success, 1 the dispatcher could not be asked or answered badly, 2 bad usage.
#include <iostream>
#include <variant>

#include "tools/mpxctl/commands.hpp"
#include "tools/mpxctl/options.hpp"

int main(int argc, char** argv) {
  auto parsed = mpx::mpxctl::parse_options(argc, argv);
  if (const auto* exit = std::get_if<mpx::mpxctl::Exit>(&parsed)) {
    std::cout << exit->out;
    std::cerr << exit->err;
    return exit->status;
  }
  return mpx::mpxctl::run_command(std::get<mpx::mpxctl::Options>(parsed), std::cout, std::cerr);
}
