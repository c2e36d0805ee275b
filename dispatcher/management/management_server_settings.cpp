// management_server_settings (see management_server.hpp): the management server's settings read
// from the configuration.
#include "dispatcher/management/management_server.hpp"

namespace mpx::dispatcher {

Result<ManagementServerSettings> management_server_settings(const config::Config& config) {
  ManagementServerSettings settings;
  const auto& listen = config.dispatcher.listen_management;
  settings.listen = {listen.ip.value_or(boost::asio::ip::address_v4::any()), listen.port};
  settings.use_tls = config.dispatcher.management_use_tls;
  settings.certs_path = config.certs_dir();
  settings.verify_interval = config.tls.verify_interval;
  if (config.dispatcher.management_passport) {
    auto passport = tls::Passport::parse(*config.dispatcher.management_passport);
    if (!passport) {
      return Error{config.describe_option("Dispatcher", "management_passport") + ": " +
                   passport.error().message};
    }
    settings.passport = passport.value();
  }
  return settings;
}

}  // namespace mpx::dispatcher
