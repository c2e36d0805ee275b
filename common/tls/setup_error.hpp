// SetupError: the start-up misconfiguration exception of common/tls. what() is one line that names
// the file and the problem, e.g. "/etc/mediaproxy/tls/crl.pem: cannot open: No such file or
// directory", so the daemon can print it and exit.
#pragma once

#include <stdexcept>

namespace mpx::tls {

class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mpx::tls
