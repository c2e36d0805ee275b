// Test helper for the incremental parsers: cuts a byte string into pseudo-random chunks (sizes
// 1..max_chunk) from a seed, so a test can assert that chunking never changes what is parsed.
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace mpx::protocol::test {

inline std::vector<std::string> random_chunks(std::string_view bytes, unsigned seed,
                                              std::size_t max_chunk = 17) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> size(1, max_chunk);
  std::vector<std::string> chunks;
  for (std::size_t pos = 0; pos < bytes.size();) {
    const std::size_t n = std::min(size(rng), bytes.size() - pos);
    chunks.emplace_back(bytes.substr(pos, n));
    pos += n;
  }
  return chunks;
}

}  // namespace mpx::protocol::test
