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
// Later step (durable spool, issue 8 item 4): a spool sits in front of this class. The seam is
// enqueue(): the spool appends each row to disk first and feeds enqueue() (on start-up with the
// rows a previous run left), and the row-delivered callback tells it which rows to delete. The
// insert is already idempotent on (call_id, from_tag, to_tag), so a replay after a crash between
// the insert and the spool's delete stores nothing twice.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "common/config/config.hpp"
#include "common/protocol/session_statistics.hpp"
#include "common/result.hpp"
#include "dispatcher/accounting/accounting.hpp"
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
  ~DatabaseAccountingBackend() override;
  DatabaseAccountingBackend(const DatabaseAccountingBackend&) = delete;
  DatabaseAccountingBackend& operator=(const DatabaseAccountingBackend&) = delete;

  const char* name() const override { return "database"; }
  void record(const protocol::SessionStatistics& session) override;
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

  DatabaseBackendSettings settings_;
  DeliveredCallback delivered_;
  DatabaseWriter writer_;  // worker thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<AccountingRow> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  Counters counters_;
  std::string last_error_;
  std::thread worker_;
};

}  // namespace mpx::dispatcher
