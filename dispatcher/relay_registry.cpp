// RelayRegistry (see relay_registry.hpp).
#include "dispatcher/relay_registry.hpp"

namespace mpx::dispatcher {

std::shared_ptr<RelayLink> RelayRegistry::add(std::shared_ptr<RelayLink> link) {
  auto& slot = links_[link->peer_ip()];
  auto previous = std::move(slot);
  slot = std::move(link);
  return previous;
}

bool RelayRegistry::remove(const RelayLink& link) {
  const auto it = links_.find(link.peer_ip());
  if (it == links_.end() || it->second.get() != &link) {
    return false;
  }
  links_.erase(it);
  return true;
}

std::shared_ptr<RelayLink> RelayRegistry::find(std::string_view ip) const {
  const auto it = links_.find(ip);
  return it == links_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<RelayLink>> RelayRegistry::all() const {
  std::vector<std::shared_ptr<RelayLink>> links;
  links.reserve(links_.size());
  for (const auto& [ip, link] : links_) {
    links.push_back(link);
  }
  return links;
}

}  // namespace mpx::dispatcher
