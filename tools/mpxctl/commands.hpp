// Running mpxctl's commands against a dispatcher: connect, ask, check the answer is a JSON array,
// and print it raw (--json) or as a table; `top` repeats that on a cleared screen. Every failure
// (connection, TLS, an "error" answer, malformed JSON) is one "mpxctl: ..." line on `err` and
// exit status 1.
#pragma once

#include <ostream>

#include "tools/mpxctl/options.hpp"

namespace mpx::mpxctl {

// Returns the process exit status (0 or 1).
int run_command(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace mpx::mpxctl
