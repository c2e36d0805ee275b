// RelayRegistry: the connected relays keyed by the peer IP of their TLS connection (compat spec
// 6.1). A new link from an IP that already has one replaces it; the caller closes the old one.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dispatcher/relay_link.hpp"

namespace mpx::dispatcher {

class RelayRegistry {
 public:
  // Registers `link`; returns the link it replaces (nullptr if none).
  std::shared_ptr<RelayLink> add(std::shared_ptr<RelayLink> link);
  // Unregisters `link` if it is still the current link of its IP; false otherwise (it was
  // replaced by a reconnection).
  bool remove(const RelayLink& link);
  std::shared_ptr<RelayLink> find(std::string_view ip) const;
  std::vector<std::shared_ptr<RelayLink>> all() const;
  std::size_t size() const { return links_.size(); }

 private:
  std::map<std::string, std::shared_ptr<RelayLink>, std::less<>> links_;
};

}  // namespace mpx::dispatcher
