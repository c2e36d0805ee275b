// endpoint_key: conversions between asio endpoints, packed keys and sockaddr_in.
#include "userspace/socket/endpoint_key.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace mpx::datapath::socket_detail {

EndpointKey key_of(const Endpoint& endpoint) {
  return (static_cast<EndpointKey>(endpoint.address().to_v4().to_uint()) << 16) |
         endpoint.port();
}

EndpointKey key_of(const sockaddr_in& address) {
  return (static_cast<EndpointKey>(ntohl(address.sin_addr.s_addr)) << 16) |
         ntohs(address.sin_port);
}

sockaddr_in sockaddr_of(const Endpoint& endpoint) {
  sockaddr_in address;
  std::memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_port = htons(endpoint.port());
  address.sin_addr.s_addr = htonl(endpoint.address().to_v4().to_uint());
  return address;
}

Endpoint endpoint_of(const sockaddr_in& address) {
  return Endpoint(boost::asio::ip::address_v4(ntohl(address.sin_addr.s_addr)),
                  ntohs(address.sin_port));
}

std::string endpoint_text(const Endpoint& endpoint) {
  boost::system::error_code ignored;
  std::string text = endpoint.address().to_string(ignored);
  if (endpoint.address().is_v6()) text = "[" + text + "]";
  return text + ":" + std::to_string(endpoint.port());
}

std::string flow_text(const Flow& flow) {
  return endpoint_text(flow.caller_remote) + " -> " + endpoint_text(flow.caller_local) + " / " +
         endpoint_text(flow.callee_local) + " -> " + endpoint_text(flow.callee_remote);
}

}  // namespace mpx::datapath::socket_detail
