// Network byte order into and out of a byte vector, for the suites that build packets by hand
// (relay_lab's RTP/RTCP, the attack harness's packet formats and forged IPv4/UDP datagrams).
// put*/get* take the offset of the field's first byte; the caller sized the vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mpx::test {

inline void put16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t value) {
  out[at] = static_cast<std::uint8_t>(value >> 8);
  out[at + 1] = static_cast<std::uint8_t>(value);
}

inline void put24(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t value) {
  out[at] = static_cast<std::uint8_t>(value >> 16);
  out[at + 1] = static_cast<std::uint8_t>(value >> 8);
  out[at + 2] = static_cast<std::uint8_t>(value);
}

inline void put32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i) {
    out[at + i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
  }
}

inline std::uint16_t get16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

inline std::uint32_t get32(std::span<const std::uint8_t> bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
         (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
}

}  // namespace mpx::test
