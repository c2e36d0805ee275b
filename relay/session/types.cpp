// Text forms of the relay/session vocabulary (see types.hpp).
#include "relay/session/types.hpp"

namespace mpx::relay::session {

std::string_view to_string(Party party) { return party == Party::caller ? "caller" : "callee"; }

std::string Endpoint::to_string() const { return ip.to_string() + ":" + std::to_string(port); }

}  // namespace mpx::relay::session
