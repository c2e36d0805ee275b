// The knobs of the dispatcher links, and how they come from [Relay] and [TLS] (spec 3.7, 5.12,
// 7.2, 7.4). Timeouts that MediaProxy hard-codes (connect timeout, the 1 s / 5 s retry rule, the
// 3 unanswered pings) are fields too, so tests can shorten them.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "common/tls/passport.hpp"
#include "relay/link/reconnect_policy.hpp"

namespace mpx::relay::link {

struct LinkOptions {
  using Duration = std::chrono::steady_clock::duration;
  Duration connect_timeout = std::chrono::seconds(10);  // TCP connect + TLS handshake
  ReconnectTimes reconnect;
  Duration keepalive_interval = std::chrono::seconds(10);  // <= 0: no pings
  std::size_t max_unanswered_pings = 3;  // this many outstanding when the next is due: drop
  Duration verify_interval = std::chrono::seconds(300);  // <= 0: no re-verification
  std::optional<tls::Passport> passport;                 // checks the dispatcher's subject
  // `expired` lines kept while the dispatcher is disconnected, sent on reconnect; the oldest is
  // dropped (and logged) beyond this.
  std::size_t max_queued_expired = 1000;
};

struct DispatcherLinksOptions {
  std::vector<config::DispatcherAddress> dispatchers;
  std::chrono::steady_clock::duration dns_check_interval = std::chrono::seconds(60);
  LinkOptions link;
};

// From the loaded configuration. Fails (one line) only when Relay.passport does not parse.
Result<DispatcherLinksOptions> links_options(const config::RelayConfig& relay,
                                             const config::TlsConfig& tls);

}  // namespace mpx::relay::link
