// Which local IPv4 address the kernel would use to reach a destination (compat spec 5.4): the
// default relay_ip (the default-route interface's address) and auto_detect_interfaces' per-session
// choice of bind address. Implemented as MediaProxy does: connect an unbound UDP socket (no packet
// is sent) and read back the local address the routing table picked.
#pragma once

#include <boost/asio/ip/address_v4.hpp>

#include "common/result.hpp"

namespace mpx::relay::system {

// Error when there is no route, e.g. "no route to 192.0.2.1: Network is unreachable".
Result<boost::asio::ip::address_v4> local_address_toward(const boost::asio::ip::address_v4& destination);

// The address of the interface holding the default route (the route toward a public address).
Result<boost::asio::ip::address_v4> default_route_address();

}  // namespace mpx::relay::system
