// DispatcherId text form and ordering (for maps keyed by dispatcher).
#include "relay/link/dispatcher_id.hpp"

#include <tuple>

namespace mpx::relay::link {

std::string DispatcherId::to_string() const {
  return address.to_string() + ":" + std::to_string(port);
}

bool DispatcherId::operator<(const DispatcherId& other) const {
  return std::make_tuple(address.to_uint(), port) <
         std::make_tuple(other.address.to_uint(), other.port);
}

}  // namespace mpx::relay::link
