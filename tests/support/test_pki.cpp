// test_pki_dir(): the ctest fixture's directory, or a per-process one made on demand.
#include "tests/support/test_pki.hpp"

#include "tests/support/subprocess.hpp"

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "tests/support/temp_dir.hpp"

namespace mpx::test {

std::filesystem::path test_pki_dir() {
  if (const char* dir = std::getenv("MPX_TEST_PKI_DIR");
      dir != nullptr && std::filesystem::exists(std::filesystem::path(dir) / "ca.pem")) {
    return dir;
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
