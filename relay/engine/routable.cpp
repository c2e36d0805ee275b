// RFC 6890 special-purpose IPv4 ranges as MediaProxy lists them; see routable.hpp.
#include "relay/engine/routable.hpp"

#include <array>
#include <utility>

namespace mpx::relay::engine {
namespace {

using boost::asio::ip::address_v4;
using boost::asio::ip::make_network_v4;
using boost::asio::ip::network_v4;

bool contains(const network_v4& network, const address_v4& address) {
  const auto mask = network.netmask().to_uint();
  return (address.to_uint() & mask) == (network.network().to_uint() & mask);
}

const std::array<network_v4, 16>& non_routable() {
  static const std::array<network_v4, 16> ranges{
      make_network_v4("0.0.0.0/8"),       make_network_v4("10.0.0.0/8"),
      make_network_v4("100.64.0.0/10"),   make_network_v4("127.0.0.0/8"),
      make_network_v4("169.254.0.0/16"),  make_network_v4("172.16.0.0/12"),
      make_network_v4("192.0.0.0/24"),    make_network_v4("192.0.2.0/24"),
      make_network_v4("192.88.99.0/24"),  make_network_v4("192.168.0.0/16"),
      make_network_v4("198.18.0.0/15"),   make_network_v4("198.51.100.0/24"),
      make_network_v4("203.0.113.0/24"),  make_network_v4("224.0.0.0/4"),
      make_network_v4("240.0.0.0/4"),     make_network_v4("255.255.255.255/32")};
  return ranges;
}

}  // namespace

RoutableFilter::RoutableFilter(std::vector<network_v4> routable_private_ranges)
    : allowed_(std::move(routable_private_ranges)) {}

bool RoutableFilter::routable(const address_v4& address) const {
  for (const auto& network : allowed_) {
    if (contains(network, address)) {
      return true;
    }
  }
  for (const auto& network : non_routable()) {
    if (contains(network, address)) {
      return false;
    }
  }
  return true;
}

}  // namespace mpx::relay::engine
