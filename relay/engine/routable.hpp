// Whether the relay may send RTP to an address it only knows from SDP (compat spec 5.5): not to
// the RFC 6890 special-purpose ranges MediaProxy lists, unless [Relay] routable_private_ranges
// says the operator's network routes them.
#pragma once

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/network_v4.hpp>

#include <vector>

namespace mpx::relay::engine {

class RoutableFilter {
 public:
  explicit RoutableFilter(std::vector<boost::asio::ip::network_v4> routable_private_ranges = {});
  bool routable(const boost::asio::ip::address_v4& address) const;

 private:
  std::vector<boost::asio::ip::network_v4> allowed_;
};

}  // namespace mpx::relay::engine
