// Protocol A reply formatting (see module_reply.hpp).
#include "common/protocol/module_reply.hpp"

namespace mpx::protocol {

std::string format_ports(const boost::asio::ip::address_v4& ip,
                         std::span<const std::uint16_t> ports) {
  std::string out = ip.to_string();
  for (const std::uint16_t port : ports) {
    out += ' ';
    out += std::to_string(port);
  }
  return out;
}

std::string format_ports_reply(const boost::asio::ip::address_v4& ip,
                               std::span<const std::uint16_t> ports) {
  return format_ports(ip, ports) + "\r\n";
}

}  // namespace mpx::protocol
