// mpxctl's command line: what to ask (sessions, summary, top), where (host, port, plain TCP or
// TLS with which client files) and how to show it. Parsing is separate from running so that
// usage errors (exit status 2) are testable without a dispatcher.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "tools/mpxctl/management_client.hpp"

namespace mpx::mpxctl {

enum class Command { sessions, summary, top };

struct Options {
  Command command = Command::sessions;
  ClientSettings client;
  bool json = false;                               // sessions/summary: the server's JSON as is
  std::chrono::milliseconds interval{2000};        // top: refresh period
  std::optional<std::uint64_t> iterations;         // top: screens to show; nullopt = until Ctrl-C
};

// What to do instead of running a command: print `out`/`err` and exit with `status`
// (--help and --version: 0; a usage error: 2 with one line on err).
struct Exit {
  int status = 0;
  std::string out;
  std::string err;
};

// The certificates directory --tls uses when --certs-dir is not given.
inline constexpr const char* kDefaultCertsDir = "/etc/mediaproxy/tls";

std::variant<Options, Exit> parse_options(int argc, const char* const* argv);

}  // namespace mpx::mpxctl
