// RtpArrivals: counts, at a UA (the caller's or callee's namespace), the UDP packets that arrive
// at its media port FROM THE RELAY's public address (203.0.113.1), with a test-owned nftables
// table (input hook). RTP that reached the UA any other way is not counted. The table is deleted
// on destruction.
#pragma once

#include <cstdint>
#include <string>

#include "tests/support/netns_lab.hpp"

namespace mpx::test::e2e {

class RtpArrivals {
 public:
  // Throws std::runtime_error with nft's message if the table cannot be made.
  RtpArrivals(const NetnsLab& lab, std::string role, std::uint16_t media_port);
  ~RtpArrivals();
  RtpArrivals(const RtpArrivals&) = delete;
  RtpArrivals& operator=(const RtpArrivals&) = delete;

  // Packets counted so far; throws std::runtime_error if nft cannot be read.
  std::uint64_t packets() const;

 private:
  const NetnsLab& lab_;
  std::string role_;
};

}  // namespace mpx::test::e2e
