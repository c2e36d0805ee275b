// plan_selection (see relay_selection.hpp).
#include "dispatcher/relay_selection.hpp"

#include <algorithm>

namespace mpx::dispatcher {

SelectionPlan plan_selection(std::span<const RelayCandidate> relays,
                             std::optional<std::string_view> preferred, std::mt19937& random) {
  SelectionPlan plan;
  std::vector<const RelayCandidate*> others;
  bool preferred_found = false;
  for (const auto& relay : relays) {
    if (!relay.usable) {
      continue;
    }
    if (preferred && relay.ip == *preferred) {
      preferred_found = true;
      continue;
    }
    others.push_back(&relay);
  }
  // Shuffle first, then a stable sort by load: equal loads keep their random order.
  std::shuffle(others.begin(), others.end(), random);
  std::stable_sort(others.begin(), others.end(),
                   [](const RelayCandidate* a, const RelayCandidate* b) { return a->load < b->load; });
  if (preferred_found) {
    plan.order.emplace_back(*preferred);
  } else if (preferred) {
    plan.preferred_unavailable = true;
  }
  for (const auto* relay : others) {
    plan.order.push_back(relay->ip);
  }
  return plan;
}

}  // namespace mpx::dispatcher
