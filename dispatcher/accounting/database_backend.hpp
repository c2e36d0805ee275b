// The database accounting back-end (compat spec 8.1, issue 8): records go into MediaProxy's
// sessions table (call_id, from_tag, to_tag, info = the statistics JSON) through SOCI, to SQLite,
// PostgreSQL or MySQL as `[Database] dburi` says.
//
// A thin adapter on the shared DeliveryWorker (delivery_worker.hpp: the spool writer and delivery
// threads, the back-off, the counters and the failure/recovery log lines): what is its own is how
// to deliver one row. The delivery opens the connection (creating the table), inserts the row
// idempotently on (call_id, from_tag, to_tag), and on an error reconnects (which also re-creates a
// dropped table) and tries once more, as MediaProxy retries once after re-creating the table: an
// error that remains while the connection is fine is the row's own (rejected: logged in full and
// dropped); a connection that stays down means the row waits (retry).
//
// With a durable spool (accounting_spool.hpp) every row is written to <spool dir>/database by the
// worker's writer thread, and its file deleted once the row is stored (or found already there: a
// replay after a crash between the insert and the delete stores nothing twice). Rows a previous run
// left in the spool are delivered first; at shutdown spooled rows that were not delivered stay on
// disk for the next run.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/config/config.hpp"
#include "common/protocol/session_statistics.hpp"
#include "common/result.hpp"
#include "dispatcher/accounting/accounting.hpp"
#include "dispatcher/accounting/accounting_spool.hpp"
#include "dispatcher/accounting/database_writer.hpp"
#include "dispatcher/accounting/dburi.hpp"
#include "dispatcher/accounting/delivery_worker.hpp"

namespace mpx::dispatcher {

struct DatabaseBackendSettings {
  DatabaseTarget target;
  AccountingTable table;
  std::size_t queue_limit = 100000;
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{30000};
};

// From the [Database] section. An empty dburi means SQLite at default_sqlite_path(state_dir);
// relative sqlite paths are taken from state_dir too. (The dispatcher passes its runtime
// directory as the state directory until it has a state directory of its own.)
Result<DatabaseBackendSettings> database_backend_settings(const config::DatabaseConfig& database,
                                                          const std::filesystem::path& state_dir);

AccountingRow accounting_row(const protocol::SessionStatistics& session);

class DatabaseAccountingBackend final : public AccountingBackend {
 public:
  struct Counters {
    std::uint64_t inserted = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t dropped = 0;
  };
  // Called on the delivery thread after each row is stored, or found already there.
  using DeliveredCallback = DeliveryWorker::DeliveredCallback;

  // Starts the worker, which connects and creates the table at once (errors are logged there:
  // a database that is down at start-up must not stop the dispatcher). Memory only.
  explicit DatabaseAccountingBackend(DatabaseBackendSettings settings,
                                     DeliveredCallback delivered = nullptr);
  // The same, durable: rows go through `spool` (which may hold rows of a previous run; they are
  // delivered first). A null spool is the in-memory queue alone.
  DatabaseAccountingBackend(DatabaseBackendSettings settings, std::unique_ptr<RecordSpool> spool,
                            DeliveredCallback delivered = nullptr);

  const char* name() const override { return "database"; }
  // Never waits for the disk or the database.
  void record(const protocol::SessionStatistics& session) override;
  void enqueue(AccountingRow row);

  // True once every row was spooled and delivered (or dropped) (false on timeout).
  bool wait_until_idle(std::chrono::milliseconds timeout);
  Counters counters() const;
  std::optional<AccountingBackendStatus> status() const override;
  // The last connection or table error, "" while all is well (for tests and diagnostics).
  std::string last_error() const;

 private:
  DeliveryWorker worker_;
};

// The "deliver one row" half of the database back-end, on the worker's delivery thread.
class DatabaseRowDelivery final : public RecordDelivery {
 public:
  explicit DatabaseRowDelivery(DatabaseBackendSettings settings);
  DeliveryResult start() override;
  DeliveryResult deliver(const AccountingRow& row) override;
  std::string target() const override { return display_; }

 private:
  std::string display_;
  DatabaseWriter writer_;
};

}  // namespace mpx::dispatcher
