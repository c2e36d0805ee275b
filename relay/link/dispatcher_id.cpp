// DispatcherId text form and ordering (for maps keyed by dispatcher).
#include "relay/link/dispatcher_id.hpp"

#include <charconv>
#include <tuple>

namespace mpx::relay::link {

std::string DispatcherId::to_string() const {
  return address.to_string() + ":" + std::to_string(port);
}

std::optional<DispatcherId> DispatcherId::parse(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address_v4(std::string(text.substr(0, colon)), error);
  const auto digits = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, failed] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (error || failed != std::errc{} || end != digits.data() + digits.size() || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  return DispatcherId{address, static_cast<std::uint16_t>(port)};
}

bool DispatcherId::operator<(const DispatcherId& other) const {
  return std::make_tuple(address.to_uint(), port) <
         std::make_tuple(other.address.to_uint(), other.port);
}

}  // namespace mpx::relay::link
