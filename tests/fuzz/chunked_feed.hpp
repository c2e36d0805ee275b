// Shared by the fuzz targets of the incremental parsers: cut the input into chunks chosen by the
// input's own control bytes, and drive a parser over them the way a connection does (feed, drain
// steps until NeedMore, stop at FatalError). Comparing the steps of a chunked run with a
// one-piece run proves chunking never changes what is parsed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "tests/support/drain_parser.hpp"

namespace mpx::fuzz {

// control: low 6 bits = max chunk size - 1; seed: xorshift seed for the chunk sizes.
inline std::vector<std::string_view> chunk(std::string_view bytes, std::uint8_t control,
                                           std::uint8_t seed) {
  std::vector<std::string_view> chunks;
  std::uint32_t state = 0x9e3779b9U ^ seed;
  const std::size_t max_chunk = (control & 0x3fU) + 1U;
  for (std::size_t pos = 0; pos < bytes.size();) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    const std::size_t n = std::min<std::size_t>(1 + state % max_chunk, bytes.size() - pos);
    chunks.push_back(bytes.substr(pos, n));
    pos += n;
  }
  return chunks;
}

template <class Step, class Parser>
std::vector<Step> run(Parser parser, const std::vector<std::string_view>& chunks) {
  return test::drain_parser<Step>(std::move(parser), chunks);
}

}  // namespace mpx::fuzz
