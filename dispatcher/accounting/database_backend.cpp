// The database back-end's queue and worker thread. Rows are delivered in arrival order; the front
// row stays in the queue until it is stored (or dropped for a reason that is its own), so a lost
// connection never loses it.
#include "dispatcher/accounting/database_backend.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
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

DatabaseAccountingBackend::DatabaseAccountingBackend(DatabaseBackendSettings settings,
                                                     DeliveredCallback delivered)
    : DatabaseAccountingBackend(std::move(settings), nullptr, std::move(delivered)) {}

DatabaseAccountingBackend::DatabaseAccountingBackend(DatabaseBackendSettings settings,
                                                     std::unique_ptr<AccountingSpool> spool,
                                                     DeliveredCallback delivered)
    : settings_(std::move(settings)),
      spool_(std::move(spool)),
      delivered_(std::move(delivered)),
      writer_(settings_.target, settings_.table) {
  if (spool_) {
    for (auto& entry : spool_->take_pending()) {
      queue_.push_back(QueuedRow{std::move(entry.row), entry.sequence});
    }
  }
  worker_ = std::thread([this] { run(); });
}

DatabaseAccountingBackend::~DatabaseAccountingBackend() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) {
    worker_.join();
  }
  std::size_t kept = 0;
  for (const auto& queued : queue_) {
    if (queued.spooled) {
      ++kept;
      continue;
    }
    spdlog::error("database accounting: not delivered at shutdown, call_id {}: {}",
                  queued.row.call_id, queued.row.info);
  }
  if (kept > 0) {
    spdlog::warn("database accounting: {} records not delivered yet stay in the spool {} for the "
                 "next start",
                 kept, spool_->directory().string());
  }
}

void DatabaseAccountingBackend::record(const protocol::SessionStatistics& session) {
  enqueue(accounting_row(session));
}

void DatabaseAccountingBackend::enqueue(AccountingRow row) {
  if (spool_) {
    auto spooled = spool_->append(row);
    if (spooled) {
      push(std::move(row), spooled.value());
      return;
    }
    if (spooled.error().message == kAccountingSpoolFull) {
      std::lock_guard lock(mutex_);
      ++counters_.dropped;  // the spool logged it with its JSON
      return;
    }
    // A disk error: the memory queue is better than nothing.
  }
  push(std::move(row), std::nullopt);
}

void DatabaseAccountingBackend::forget(const std::optional<std::uint64_t>& spooled) {
  if (spool_ && spooled) {
    (void)spool_->remove(*spooled);  // an error is logged there; a replay is harmless
  }
}

void DatabaseAccountingBackend::push(AccountingRow row, std::optional<std::uint64_t> spooled) {
  {
    std::lock_guard lock(mutex_);
    if (!spooled && queue_.size() >= settings_.queue_limit) {
      ++counters_.dropped;
      spdlog::error("database accounting: queue full ({} records), record dropped, call_id {}: {}",
                    queue_.size(), row.call_id, row.info);
      return;
    }
    queue_.push_back(QueuedRow{std::move(row), spooled});
  }
  wake_.notify_one();
}

bool DatabaseAccountingBackend::wait_until_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

DatabaseAccountingBackend::Counters DatabaseAccountingBackend::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::string DatabaseAccountingBackend::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void DatabaseAccountingBackend::note_error(const std::string& message) {
  std::lock_guard lock(mutex_);
  // One line per new problem, not one per retry.
  if (message != last_error_) {
    spdlog::error("database accounting: {}", message);
  }
  last_error_ = message;
}

bool DatabaseAccountingBackend::sleep_unless_stopped(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void DatabaseAccountingBackend::run() {
  auto backoff = settings_.retry_initial;
  bool retried_front = false;
  auto connect = [&]() -> bool {
    auto opened = writer_.open();
    if (opened) {
      std::lock_guard lock(mutex_);
      if (!last_error_.empty()) {
        spdlog::info("database accounting: connected to {}", settings_.target.display);
      }
      last_error_.clear();
      backoff = settings_.retry_initial;
      return true;
    }
    writer_.close();
    note_error(opened.error().message);
    return false;
  };
  connect();
  while (true) {
    AccountingRow row;
    std::optional<std::uint64_t> spooled;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, nothing left
      }
      row = queue_.front().row;
      spooled = queue_.front().spooled;
      busy_ = true;
    }
    auto finish = [&](bool dropped) {
      std::lock_guard lock(mutex_);
      queue_.pop_front();
      if (dropped) {
        ++counters_.dropped;
      }
      busy_ = false;
      retried_front = false;
      if (queue_.empty()) {
        idle_.notify_all();
      }
    };
    auto pause = [&]() -> bool {
      {
        std::lock_guard lock(mutex_);
        busy_ = false;
        if (stopping_) {
          return false;
        }
      }
      if (!sleep_unless_stopped(backoff)) {
        return false;
      }
      backoff = std::min(backoff * 2, settings_.retry_max);
      return true;
    };

    if (!writer_.is_open() && !connect()) {
      if (!pause()) {
        return;
      }
      continue;
    }
    auto inserted = writer_.insert(row);
    if (inserted) {
      {
        std::lock_guard lock(mutex_);
        if (inserted.value() == InsertOutcome::inserted) {
          ++counters_.inserted;
        } else {
          ++counters_.duplicates;
        }
      }
      if (inserted.value() == InsertOutcome::duplicate) {
        spdlog::info("database accounting: call_id {} from_tag {} is already stored", row.call_id,
                     row.from_tag);
      }
      forget(spooled);
      if (delivered_) {
        delivered_(row);
      }
      finish(false);
      continue;
    }
    const auto error = inserted.error().message;
    if (writer_.connection_alive() && retried_front) {
      spdlog::error("database accounting: the database refused the record ({}), dropped, call_id "
                    "{}: {}",
                    error, row.call_id, row.info);
      forget(spooled);
      finish(true);
      continue;
    }
    // Reconnect (which also re-creates a dropped table) and try the same row once more; a
    // connection that stays down keeps the row and waits.
    const bool was_alive = writer_.connection_alive();
    writer_.close();
    if (was_alive) {
      retried_front = true;
    } else {
      note_error("insert failed (" + error + "); reconnecting to " + settings_.target.display);
    }
    if (!connect()) {
      if (!pause()) {
        return;
      }
    }
  }
}

}  // namespace mpx::dispatcher
