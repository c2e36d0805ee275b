// Which relays a new session tries, in order (compat spec 6.2, improved): the relay the proxy
// named in `media_relay` first if it is usable, then every other usable relay by least reported
// load, ties in random order (MediaProxy shuffles without looking at load). Pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mpx::dispatcher {

struct RelayCandidate {
  std::string ip;       // peer IP of the relay's link
  bool usable = false;  // connected, not halting, not timed out
  std::uint64_t load = 0;
};

struct SelectionPlan {
  std::vector<std::string> order;  // IPs to try, best first
  // The request named a media_relay that is not connected or not usable (log a warning).
  bool preferred_unavailable = false;
};

SelectionPlan plan_selection(std::span<const RelayCandidate> relays,
                             std::optional<std::string_view> preferred, std::mt19937& random);

}  // namespace mpx::dispatcher
