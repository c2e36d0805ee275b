// Loading PEM certificates, private keys and CRLs from files, with errors that name the file and
// say what is wrong in one line ("<path>: cannot open: No such file or directory").
#pragma once

#include "common/result.hpp"
#include "common/tls/openssl_ptr.hpp"

#include <filesystem>

namespace mpx::tls {

// Every certificate in the file, in file order (at least one).
Result<X509List> load_certificates(const std::filesystem::path& file);

// The one private key in the file. Passphrase-protected keys are refused (never prompts).
Result<EvpPkeyPtr> load_private_key(const std::filesystem::path& file);

// Every CRL in the file, in file order (at least one).
Result<X509CrlList> load_crls(const std::filesystem::path& file);

}  // namespace mpx::tls
