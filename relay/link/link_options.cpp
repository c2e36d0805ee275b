// links_options: [Relay] + [TLS] -> DispatcherLinksOptions (see link_options.hpp).
#include "relay/link/link_options.hpp"

namespace mpx::relay::link {

Result<DispatcherLinksOptions> links_options(const config::RelayConfig& relay,
                                             const config::TlsConfig& tls) {
  DispatcherLinksOptions options;
  options.dispatchers = relay.dispatchers;
  options.dns_check_interval = relay.dns_check_interval;
  options.link.reconnect.reconnect_delay = relay.reconnect_delay;
  options.link.keepalive_interval = relay.keepalive_interval;
  options.link.verify_interval = tls.verify_interval;
  if (relay.passport) {
    auto passport = tls::Passport::parse(*relay.passport);
    if (!passport) {
      return Error{"Relay.passport: " + passport.error().message};
    }
    options.link.passport = std::move(passport).value();
  }
  return options;
}

}  // namespace mpx::relay::link
