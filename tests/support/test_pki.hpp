// Location of the test PKI made by tests/pki/make-test-pki.sh (ctest fixture "pki"). When a test
// binary runs outside ctest, the PKI is made once into a temporary directory of this process.
#pragma once

#include <filesystem>

namespace mpx::test {

std::filesystem::path test_pki_dir();

}  // namespace mpx::test
