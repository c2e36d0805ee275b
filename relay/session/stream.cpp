// Hold rule of a stream (see stream.hpp).
#include "relay/session/stream.hpp"

namespace mpx::relay::session {

std::optional<HoldChanged> Stream::check_hold(Party p, protocol::Direction direction,
                                              const boost::asio::ip::address_v4& ip) {
  const bool was_on_hold = on_hold();
  party(p).on_hold = direction == protocol::Direction::sendonly ||
                     direction == protocol::Direction::inactive || ip.is_unspecified();
  const bool now_on_hold = on_hold();
  if (!alive || was_on_hold == now_on_hold) {
    return std::nullopt;
  }
  status = now_on_hold ? kOnHold : kActive;
  return HoldChanged{id, now_on_hold};
}

}  // namespace mpx::relay::session
