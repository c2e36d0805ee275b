// Route lookups through a connected UDP socket; see local_address.hpp.
#include "relay/system/local_address.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

namespace mpx::relay::system {

Result<boost::asio::ip::address_v4> local_address_toward(
    const boost::asio::ip::address_v4& destination) {
  boost::asio::io_context io;
  boost::asio::ip::udp::socket socket(io);
  boost::system::error_code error;
  socket.open(boost::asio::ip::udp::v4(), error);
  if (!error) {
    // Port 9 (discard): nothing is sent, connect() only selects the route and source address.
    socket.connect({destination, 9}, error);
  }
  if (error) {
    return Error{"no route to " + destination.to_string() + ": " + error.message()};
  }
  const auto local = socket.local_endpoint(error);
  if (error) {
    return Error{"no local address toward " + destination.to_string() + ": " + error.message()};
  }
  return local.address().to_v4();
}

Result<boost::asio::ip::address_v4> default_route_address() {
  // Any public address is reached through the default route; 1.1.1.1 is never contacted.
  auto address = local_address_toward(boost::asio::ip::make_address_v4("1.1.1.1"));
  if (!address) {
    return Error{"cannot find the default route's address (" + address.error().message +
                 "); set [Relay] relay_ip"};
  }
  return address;
}

}  // namespace mpx::relay::system
