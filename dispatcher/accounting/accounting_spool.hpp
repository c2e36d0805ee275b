// The durable accounting spool (issue 8 item 4): a bounded, crash-safe on-disk queue of accounting
// records for one back-end (one directory per back-end name, e.g. <spool dir>/database/), so a
// record survives a back-end outage and a dispatcher restart.
//
// One file per record, named by a sequence number (`00000000000000000042.rec`), holding a JSON
// object with the key (call_id, from_tag, to_tag) and the statistics JSON. append() writes a
// temporary file, fsyncs it, renames it into place and fsyncs the directory: once append() returns
// the record is on disk, and a crash at any moment leaves either no file or a whole one (a
// leftover `.tmp` is removed at the next open). A back-end calls remove() only after the record
// was delivered (or found already there), so a crash between the two replays it once more and
// the back-end's idempotent key (call_id, from_tag, to_tag) keeps it from being doubled.
//
// The spool is bounded by a record count: at 80 % one warning is logged (again after it fell back
// under 80 %); a record that finds it full is refused, logged with its JSON and counted. A `.rec`
// file that cannot be read back (damaged outside of us) is logged, renamed to `.corrupt` for the
// operator and skipped.
//
// Thread-safe: append() is called on the back-end's spool writer thread (never on the dispatcher's
// event loop: delivery_worker.hpp), remove() on its delivery thread.
//
// RecordSpool is the interface the delivery worker uses, so a test can put a spool that blocks
// (a slow or stuck disk) in front of the worker and prove the event loop never waits for it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "dispatcher/accounting/database_writer.hpp"

namespace mpx::dispatcher {

// The message of append()'s error when the spool is full (other errors are disk errors).
inline constexpr const char* kAccountingSpoolFull = "the accounting spool is full";

struct AccountingSpoolSettings {
  std::filesystem::path directory;  // this back-end's own directory; created if missing
  std::size_t max_records = 100000;
  // Fsync the directory after each removal too. Without it a power loss just after a removal can
  // bring the file back and replay the record: harmless for the database (idempotent key), a
  // duplicate for RADIUS (none), so the RADIUS spool pays one more fsync per record (on the
  // delivery thread, never on the event loop).
  bool durable_removal = false;
};

struct SpooledRecord {
  std::uint64_t sequence = 0;
  AccountingRow row;
};

class RecordSpool {
 public:
  virtual ~RecordSpool() = default;
  // Durable once it returns; the sequence number to remove() it by. An error when the spool is
  // full (message kAccountingSpoolFull) or the write failed.
  virtual Result<std::uint64_t> append(const AccountingRow& row) = 0;
  // Forgets a delivered record. Removing one that is not there is not an error.
  virtual Result<void> remove(std::uint64_t sequence) = 0;
  // The records a previous run left, oldest first (deliver them first); empty after the first call.
  virtual std::vector<SpooledRecord> take_pending() = 0;
  // For logs: where the records are.
  virtual std::string location() const = 0;
};

class AccountingSpool final : public RecordSpool {
 public:
  using Entry = SpooledRecord;
  struct Counters {
    std::uint64_t appended = 0;
    std::uint64_t removed = 0;
    std::uint64_t refused = 0;  // spool full or a write error
    std::uint64_t corrupt = 0;  // unreadable files found at open
  };

  // Creates the directory (mode 0700) if missing, removes leftover temporary files and loads the
  // records a previous run left, in order (see pending()). An error only when the directory
  // cannot be created or read.
  static Result<std::unique_ptr<AccountingSpool>> open(AccountingSpoolSettings settings);
  ~AccountingSpool() override;
  AccountingSpool(const AccountingSpool&) = delete;
  AccountingSpool& operator=(const AccountingSpool&) = delete;

  // Durable once it returns; the sequence number to remove() it by. An error (logged with the
  // record's JSON and counted as refused) when the spool is full or the write failed.
  Result<std::uint64_t> append(const AccountingRow& row) override;
  // Forgets a delivered record. Removing one that is not there is not an error.
  Result<void> remove(std::uint64_t sequence) override;

  // The records found at open(), oldest first (left by a previous run; deliver them first).
  std::vector<Entry> take_pending() override;
  std::string location() const override { return settings_.directory.string(); }
  std::size_t size() const;
  Counters counters() const;
  const std::filesystem::path& directory() const { return settings_.directory; }

 private:
  AccountingSpool(AccountingSpoolSettings settings, int directory_fd);
  Result<void> load();
  std::filesystem::path record_path(std::uint64_t sequence) const;

  AccountingSpoolSettings settings_;
  int directory_fd_ = -1;
  mutable std::mutex mutex_;
  std::uint64_t next_sequence_ = 1;
  std::size_t size_ = 0;
  bool warned_ = false;
  Counters counters_;
  std::vector<Entry> pending_;
};

// A back-end's spool settings from [Dispatcher] accounting_spool_dir (relative: in runtime_dir)
// and accounting_spool_max_records: the directory is <spool dir>/<backend_name>; durable_removal
// for "radius", whose server has no idempotent key.
AccountingSpoolSettings accounting_spool_settings(const config::DispatcherConfig& dispatcher,
                                                  const std::filesystem::path& runtime_dir,
                                                  const std::string& backend_name);

// The record's file content and back (nullopt: not a record; for the spool and its tests).
std::string spool_record_text(const AccountingRow& row);
std::optional<AccountingRow> parse_spool_record(const std::string& text);

}  // namespace mpx::dispatcher
