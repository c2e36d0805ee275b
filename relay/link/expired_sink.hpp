// ExpiredSink: what the relay's session layer needs from its dispatcher links when a session
// ends on its own: send its statistics (`expired`) to the dispatcher that created it, and let
// the links drop those of dispatchers that left the configuration once nothing of theirs is
// left. DispatcherLinks implements it; a test may record instead.
#pragma once

#include <string_view>

#include "relay/link/dispatcher_id.hpp"

namespace mpx::relay::link {

class ExpiredSink {
 public:
  virtual ~ExpiredSink() = default;
  // False when that dispatcher has no link any more (the statistics are lost).
  virtual bool send_expired(const DispatcherId& dispatcher, std::string_view json) = 0;
  // A session ended: links kept only for its dispatcher's sessions may go now.
  virtual void release_orphans() = 0;
};

}  // namespace mpx::relay::link
