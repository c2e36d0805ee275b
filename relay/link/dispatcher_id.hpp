// DispatcherId: which dispatcher link something belongs to, i.e. the resolved address and the
// configured port of one [Relay] dispatchers entry (spec 5.12). A session stores the id of the link
// its first `update` came from, so its `expired` goes back there.
#pragma once

#include <boost/asio/ip/address_v4.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mpx::relay::link {

struct DispatcherId {
  boost::asio::ip::address_v4 address;
  std::uint16_t port = 0;

  // "192.0.2.1:25060"
  std::string to_string() const;
  // The reverse of to_string(); nullopt for anything else (a port of 0 included).
  static std::optional<DispatcherId> parse(std::string_view text);

  bool operator==(const DispatcherId&) const = default;
  bool operator<(const DispatcherId& other) const;
};

}  // namespace mpx::relay::link
