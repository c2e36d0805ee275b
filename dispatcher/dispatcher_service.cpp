// DispatcherService (see dispatcher_service.hpp).
#include "dispatcher/dispatcher_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/tls/context.hpp"
#include "common/tls/passport.hpp"

namespace mpx::dispatcher {

using std::chrono::milliseconds;

ServiceOptions service_options(const config::Config& config) {
  const auto& d = config.dispatcher;
  ServiceOptions options;
  options.core.relay_timeout = d.relay_timeout;
  options.core.cleanup_dead_relays_after = d.cleanup_dead_relays_after;
  options.core.cleanup_expired_sessions_after = d.cleanup_expired_sessions_after;
  options.link.relay_timeout = d.relay_timeout;
  options.link.recover_interval = d.relay_recover_interval;
  options.link.verify_interval = config.tls.verify_interval;
  options.socket_permissions = {d.socket_mode, d.socket_owner, d.socket_group};
  options.answer_budget = d.answer_budget;
  return options;
}

DispatcherService::DispatcherService(boost::asio::io_context& io, const config::Config& config,
                                     std::filesystem::path runtime_dir, AccountingSink accounting,
                                     DialogTerminator* terminator, ServiceOptions options)
    : io_(io),
      config_(config),
      socket_path_(config.dispatcher_socket_path(runtime_dir)),
      options_(std::move(options)),
      core_(std::make_unique<DispatcherCore>(io.get_executor(), options_.core,
                                             std::move(accounting), terminator)),
      management_backend_(core_->relays(), options_.core.relay_timeout) {}

DispatcherService::~DispatcherService() { stop(); }

Result<void> DispatcherService::open() {
  std::optional<tls::Passport> passport;
  if (config_.dispatcher.passport) {
    auto parsed = tls::Passport::parse(*config_.dispatcher.passport);
    if (!parsed) {
      return Error{fmt::format("{}: {}", config_.describe_option("Dispatcher", "passport"),
                               parsed.error().message)};
    }
    passport = parsed.value();
  }
  try {
    tls_context_.emplace(tls::make_context(tls::Role::dispatcher, config_.certs_dir()));
  } catch (const tls::SetupError& e) {
    return Error{fmt::format("TLS credentials for relays: {}", e.what())};
  }
  module_server_ = std::make_unique<ModuleServer>(io_.get_executor(), socket_path_,
                                                  options_.socket_permissions,
                                                  options_.answer_budget, *core_);
  if (auto opened = module_server_->open(); !opened) {
    return opened.error();
  }
  relay_server_ = std::make_unique<RelayServer>(io_.get_executor(), *tls_context_,
                                                config_.dispatcher.listen, passport,
                                                options_.link, *core_);
  if (auto opened = relay_server_->open(); !opened) {
    module_server_->stop();
    return opened.error();
  }
  return outcome::success();
}

void DispatcherService::start() {
  core_->start();
  module_server_->start();
  relay_server_->start();
  const auto relay = relay_server_->local_endpoint();
  spdlog::info("serving the proxy module on {} (answer budget {} ms); relays on {}:{} (TLS)",
               socket_path_.string(), options_.answer_budget.count(), relay.address().to_string(),
               relay.port());
}

void DispatcherService::stop() {
  if (relay_server_) {
    relay_server_->stop();
  }
  if (module_server_) {
    module_server_->stop();
  }
  core_->stop();
}

boost::asio::ip::tcp::endpoint DispatcherService::relay_endpoint() const {
  return relay_server_ ? relay_server_->local_endpoint() : boost::asio::ip::tcp::endpoint{};
}

}  // namespace mpx::dispatcher
