// The database accounting back-end (compat spec 8.1, issue 8): records go into MediaProxy's
// sessions table (call_id, from_tag, to_tag, info = the statistics JSON) through SOCI, to SQLite,
// PostgreSQL or MySQL as `[Database] dburi` says.
//
// record() never blocks on the database: it turns the session into an AccountingRow and appends it
// to a bounded in-memory queue; one worker thread owns the DatabaseWriter and delivers rows in
// order. While the database is unreachable rows wait in the queue (retried with a capped back-off);
// a row the database refuses while the connection is fine (after one reconnect and CREATE TABLE,
// as MediaProxy retries once after re-creating the table) is logged in full and dropped; a row that
// finds the queue full is logged in full and dropped. At shutdown the worker delivers what it can
// and logs the JSON of the rest, so an operator can replay them.
//
// With a durable spool (accounting_spool.hpp, issue 8 item 4) every row is written to the spool
// first (fsynced before record() returns; no network IO on the caller's thread), the worker
// delivers it and only then deletes its file; a row the database refused is deleted too (it is
// logged in full). Rows a previous run left in the spool are delivered first. The insert is
// idempotent on (call_id, from_tag, to_tag), so a replay after a crash between the insert and the
// delete stores nothing twice. At shutdown spooled rows that were not delivered stay on disk for
// the next run. The queue limit then applies only to rows the spool could not write (disk error),
// which are kept in memory as before.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/config/config.hpp"
#include "common/protocol/session_statistics.hpp"
#include "common/result.hpp"
#include "dispatcher/accounting/accounting.hpp"
#include "dispatcher/accounting/accounting_spool.hpp"
#include "dispatcher/accounting/database_writer.hpp"
#include "dispatcher/accounting/dburi.hpp"

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
  // Called on the worker thread after each row leaves the queue for good (stored, or already
  // there): where the durable spool will delete its copy.
  using DeliveredCallback = std::function<void(const AccountingRow&)>;

  // Starts the worker, which connects and creates the table at once (errors are logged there:
  // a database that is down at start-up must not stop the dispatcher).
  explicit DatabaseAccountingBackend(DatabaseBackendSettings settings,
                                     DeliveredCallback delivered = nullptr);
  // The same, durable: rows go through `spool` (which may hold rows of a previous run; they are
  // queued first). A null spool is the in-memory queue alone.
  DatabaseAccountingBackend(DatabaseBackendSettings settings,
                            std::unique_ptr<AccountingSpool> spool,
                            DeliveredCallback delivered = nullptr);
  ~DatabaseAccountingBackend() override;
  DatabaseAccountingBackend(const DatabaseAccountingBackend&) = delete;
  DatabaseAccountingBackend& operator=(const DatabaseAccountingBackend&) = delete;

  const char* name() const override { return "database"; }
  void record(const protocol::SessionStatistics& session) override;
  // Spools (when there is a spool) and queues the row.
  void enqueue(AccountingRow row);

  // True once the queue is empty and no row is being written (false on timeout).
  bool wait_until_idle(std::chrono::milliseconds timeout);
  Counters counters() const;
  // The last connection or table error, "" while all is well (for tests and diagnostics).
  std::string last_error() const;

 private:
  void run();
  void note_error(const std::string& message);
  bool sleep_unless_stopped(std::chrono::milliseconds delay);
  void push(AccountingRow row, std::optional<std::uint64_t> spooled);
  void forget(const std::optional<std::uint64_t>& spooled);

  struct QueuedRow {
    AccountingRow row;
    std::optional<std::uint64_t> spooled;  // its sequence in the spool; nullopt: memory only
  };

  DatabaseBackendSettings settings_;
  std::unique_ptr<AccountingSpool> spool_;
  DeliveredCallback delivered_;
  DatabaseWriter writer_;  // worker thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<QueuedRow> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  Counters counters_;
  std::string last_error_;
  std::thread worker_;
};

}  // namespace mpx::dispatcher
