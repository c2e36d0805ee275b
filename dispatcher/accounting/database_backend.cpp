// The database back-end's settings and its "deliver one row" (insert, reconnect and retry once);
// the queueing, spooling and retrying are the shared DeliveryWorker's.
#include "dispatcher/accounting/database_backend.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace mpx::dispatcher {

Result<DatabaseBackendSettings> database_backend_settings(const config::DatabaseConfig& database,
                                                          const std::filesystem::path& state_dir) {
  DatabaseBackendSettings settings;
  if (database.dburi.empty()) {
    const auto path = default_sqlite_path(state_dir);
    auto target = parse_dburi("sqlite://" + path.string(), state_dir);
    if (!target) {
      return target.error();
    }
    settings.target = std::move(target).value();
  } else {
    auto target = parse_dburi(database.dburi, state_dir);
    if (!target) {
      return target.error();
    }
    settings.target = std::move(target).value();
  }
  if (!database_kind_supported(settings.target.kind)) {
    return Error{"[Database] dburi " + settings.target.display +
                 ": mysql is not supported by this build (SOCI's MySQL back-end was not found)"};
  }
  settings.table.table = database.sessions_table;
  settings.table.callid_column = database.callid_column;
  settings.table.fromtag_column = database.fromtag_column;
  settings.table.totag_column = database.totag_column;
  settings.table.info_column = database.info_column;
  return settings;
}

AccountingRow accounting_row(const protocol::SessionStatistics& session) {
  return AccountingRow{session.call_id, session.from_tag, session.to_tag,
                       protocol::to_json(session)};
}

namespace {

DeliveryWorkerSettings worker_settings(const DatabaseBackendSettings& settings) {
  return DeliveryWorkerSettings{"database", settings.queue_limit, settings.retry_initial,
                                settings.retry_max};
}

DeliveryResult insert_result(const InsertOutcome outcome) {
  return DeliveryResult{outcome == InsertOutcome::inserted ? DeliveryOutcome::delivered
                                                           : DeliveryOutcome::duplicate,
                        ""};
}

}  // namespace

DatabaseRowDelivery::DatabaseRowDelivery(DatabaseBackendSettings settings)
    : display_(settings.target.display), writer_(settings.target, settings.table) {}

DeliveryResult DatabaseRowDelivery::start() {
  auto opened = writer_.open();
  if (!opened) {
    writer_.close();
    return DeliveryResult{DeliveryOutcome::retry, opened.error().message};
  }
  return {};
}

DeliveryResult DatabaseRowDelivery::deliver(const AccountingRow& row) {
  if (!writer_.is_open()) {
    if (auto started = start(); started.outcome == DeliveryOutcome::retry) {
      return started;
    }
  }
  auto inserted = writer_.insert(row);
  if (inserted) {
    return insert_result(inserted.value());
  }
  // Reconnect (which also re-creates a dropped table) and try the same row once more.
  writer_.close();
  if (auto reopened = writer_.open(); !reopened) {
    writer_.close();
    // The connection error says it all; the insert's error would repeat the row's JSON.
    return DeliveryResult{DeliveryOutcome::retry, reopened.error().message};
  }
  inserted = writer_.insert(row);
  if (inserted) {
    return insert_result(inserted.value());
  }
  if (writer_.connection_alive()) {
    return DeliveryResult{DeliveryOutcome::rejected, inserted.error().message};
  }
  writer_.close();
  return DeliveryResult{DeliveryOutcome::retry, "the connection to the database was lost"};
}

DatabaseAccountingBackend::DatabaseAccountingBackend(DatabaseBackendSettings settings,
                                                     DeliveredCallback delivered)
    : DatabaseAccountingBackend(std::move(settings), nullptr, std::move(delivered)) {}

DatabaseAccountingBackend::DatabaseAccountingBackend(DatabaseBackendSettings settings,
                                                     std::unique_ptr<RecordSpool> spool,
                                                     DeliveredCallback delivered)
    : worker_(worker_settings(settings), std::make_unique<DatabaseRowDelivery>(settings),
              std::move(spool), std::move(delivered)) {}

void DatabaseAccountingBackend::record(const protocol::SessionStatistics& session) {
  worker_.enqueue(accounting_row(session));
}

void DatabaseAccountingBackend::enqueue(AccountingRow row) { worker_.enqueue(std::move(row)); }

bool DatabaseAccountingBackend::wait_until_idle(std::chrono::milliseconds timeout) {
  return worker_.wait_until_idle(timeout);
}

DatabaseAccountingBackend::Counters DatabaseAccountingBackend::counters() const {
  const auto counters = worker_.counters();
  return Counters{counters.delivered, counters.duplicates, counters.dropped};
}

std::string DatabaseAccountingBackend::last_error() const { return worker_.last_error(); }

std::optional<AccountingBackendStatus> DatabaseAccountingBackend::status() const {
  return worker_.status();
}

}  // namespace mpx::dispatcher
