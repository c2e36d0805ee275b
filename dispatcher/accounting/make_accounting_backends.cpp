// make_accounting_backends (see make_accounting_backends.hpp): one prepared type per back-end,
// holding what was opened before daemonizing until start() hands it to the back-end.
#include "dispatcher/accounting/make_accounting_backends.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "dispatcher/accounting/accounting_spool.hpp"
#include "dispatcher/accounting/database_backend.hpp"
#include "dispatcher/accounting/radius_backend.hpp"

namespace mpx::dispatcher {
namespace {

class PreparedLogBackend final : public PreparedAccountingBackend {
 public:
  std::unique_ptr<AccountingBackend> start() override {
    return std::make_unique<LogAccountingBackend>();
  }
};

class PreparedDatabaseBackend final : public PreparedAccountingBackend {
 public:
  PreparedDatabaseBackend(DatabaseBackendSettings settings, std::unique_ptr<AccountingSpool> spool)
      : settings_(std::move(settings)), spool_(std::move(spool)) {}

  std::unique_ptr<AccountingBackend> start() override {
    spdlog::info("database accounting to {}", settings_.target.display);
    return std::make_unique<DatabaseAccountingBackend>(std::move(settings_), std::move(spool_));
  }

 private:
  DatabaseBackendSettings settings_;
  std::unique_ptr<AccountingSpool> spool_;
};

class PreparedRadiusBackend final : public PreparedAccountingBackend {
 public:
  PreparedRadiusBackend(RadiusBackendSettings settings, std::unique_ptr<RadiusClient> client,
                        std::unique_ptr<AccountingSpool> spool)
      : settings_(std::move(settings)), client_(std::move(client)), spool_(std::move(spool)) {}

  std::unique_ptr<AccountingBackend> start() override {
    spdlog::info("radius accounting to {}", client_->server());
    return std::make_unique<RadiusAccountingBackend>(std::move(client_), std::move(settings_),
                                                     std::move(spool_));
  }

 private:
  RadiusBackendSettings settings_;
  std::unique_ptr<RadiusClient> client_;
  std::unique_ptr<AccountingSpool> spool_;
};

bool listed(const config::DispatcherConfig& dispatcher, config::AccountingBackend backend) {
  return std::find(dispatcher.accounting.begin(), dispatcher.accounting.end(), backend) !=
         dispatcher.accounting.end();
}

// Opens the spool of the back-end `name` and hands it, after what the back-end opened itself
// (`parts`), to its prepared form `Prepared`.
template <class Prepared, class... Parts>
Result<std::unique_ptr<PreparedAccountingBackend>> with_spool(
    const config::Config& config, const std::filesystem::path& runtime_dir,
    const std::string& name, Parts... parts) {
  auto spool =
      AccountingSpool::open(accounting_spool_settings(config.dispatcher, runtime_dir, name));
  if (!spool) {
    return spool.error();
  }
  return std::unique_ptr<PreparedAccountingBackend>(
      std::make_unique<Prepared>(std::move(parts)..., std::move(spool).value()));
}

Result<std::unique_ptr<PreparedAccountingBackend>> prepare_database(
    const config::Config& config, const std::filesystem::path& runtime_dir) {
  auto settings = database_backend_settings(config.database, runtime_dir);
  if (!settings) {
    return settings.error();
  }
  return with_spool<PreparedDatabaseBackend>(config, runtime_dir, "database",
                                             std::move(settings).value());
}

Result<std::unique_ptr<PreparedAccountingBackend>> prepare_radius(
    const config::Config& config, const std::filesystem::path& runtime_dir) {
  auto settings =
      radius_backend_settings(config.radius, config.config_dir, bundled_radius_dictionary());
  if (!settings) {
    return settings.error();
  }
  auto client = RadiusClient::open(settings.value().client);
  if (!client) {
    return client.error();
  }
  return with_spool<PreparedRadiusBackend>(config, runtime_dir, "radius",
                                           std::move(settings).value(), std::move(client).value());
}

}  // namespace

Result<PreparedAccountingBackends> make_accounting_backends(const config::Config& config,
                                                            const std::filesystem::path& runtime_dir) {
  using Prepare = Result<std::unique_ptr<PreparedAccountingBackend>> (*)(
      const config::Config&, const std::filesystem::path&);
  // In this order, whatever the order [Dispatcher] accounting lists them in.
  const std::pair<config::AccountingBackend, Prepare> optional_backends[] = {
      {config::AccountingBackend::database, &prepare_database},
      {config::AccountingBackend::radius, &prepare_radius}};

  PreparedAccountingBackends backends;
  backends.push_back(std::make_unique<PreparedLogBackend>());
  for (const auto& [backend, prepare] : optional_backends) {
    if (!listed(config.dispatcher, backend)) {
      continue;
    }
    auto prepared = prepare(config, runtime_dir);
    if (!prepared) {
      return prepared.error();
    }
    backends.push_back(std::move(prepared).value());
  }
  return backends;
}

}  // namespace mpx::dispatcher
