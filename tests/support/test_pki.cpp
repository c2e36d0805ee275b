// test_pki_dir(): the ctest fixture's directory, or a per-process one made on demand.
#include "tests/support/test_pki.hpp"

#include "tests/support/subprocess.hpp"

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "tests/support/temp_dir.hpp"

namespace mpx::test {

std::filesystem::path test_pki_dir() {
  // The ctest fixture "pki" fills MPX_DEFAULT_PKI_DIR; MPX_TEST_PKI_DIR overrides it.
  const char* env = std::getenv("MPX_TEST_PKI_DIR");
  const std::filesystem::path fixture_dir = env != nullptr ? env : MPX_DEFAULT_PKI_DIR;
  if (std::filesystem::exists(fixture_dir / "ca.pem")) {
    return fixture_dir;
  }
  static const auto made = [] {
    static TempDir holder("mpx-pki");
    const auto result = run({source_path("tests/pki/make-test-pki.sh"), holder.path().string()});
    if (result.exit_code != 0) {
      throw std::runtime_error("make-test-pki.sh failed: " + result.err);
    }
    return holder.path();
  }();
  return made;
}

}  // namespace mpx::test
