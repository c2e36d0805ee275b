// The delivery machinery every accounting back-end shares (issue 8): takes records from the
// dispatcher's event loop without ever blocking it, makes them durable in the back-end's spool,
// delivers them in order through a RecordDelivery (the back-end's "send one record": an SQL insert,
// a RADIUS Accounting-Request), retries with a capped exponential back-off while the target is
// unreachable, deletes each spool file once the target confirmed the record, and counts.
//
// Two threads per back-end:
// * the spool writer takes records from the in-memory inbox (all enqueue() does is append there
//   and notify) and appends each to the spool (fsync + rename + directory fsync), then hands it to
// * the delivery thread, which delivers the oldest record first and deletes its spool file after
//   the target's confirmation; a record the target cannot take now stays at the front and waits.
// Keeping the two apart means a target that is down (records wait for minutes) never keeps new
// records from reaching the disk, and a slow disk never delays the proxy's answer.
//
// The window this leaves (issue 8 item 2): a record is in memory only between enqueue() and the
// end of its spool append (normally a few milliseconds, two fsyncs); a dispatcher crash in that
// window loses it. The alternative, fsync on the event loop before answering the proxy, costs every
// `remove` answer those milliseconds (more on a busy disk) and would still lose the record of a
// crash a moment earlier, while the relay's answer was in flight; issue 8 says accounting never
// delays the answer, so the window is the right trade-off. A clean stop (destructor) first spools
// everything in the inbox, so only a crash (or SIGKILL) opens it.
//
// Without a spool (or when the disk fails) records wait in memory only, bounded by queue_limit;
// what is still in memory at shutdown is logged with its JSON so an operator can replay it.
//
// Logs: one warning when the target starts failing and one when it recovers, not one per retry;
// a record the target refuses for a reason of its own is logged in full and dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "dispatcher/accounting/accounting.hpp"
#include "dispatcher/accounting/accounting_spool.hpp"
#include "dispatcher/accounting/database_writer.hpp"

namespace mpx::dispatcher {

enum class DeliveryOutcome {
  delivered,  // the target stored / acknowledged the record
  duplicate,  // the target already had it (idempotent key): as good as delivered
  rejected,   // the target refused this record for a reason that is its own: dropped, logged
  retry,      // the target cannot take records now (down, timed out): the record waits
};

struct DeliveryResult {
  DeliveryOutcome outcome = DeliveryOutcome::delivered;
  std::string detail;  // why, for logs ("" when delivered)
};

// What a back-end adds to the worker: how to reach its target and send one record. Used on the
// delivery thread only, so it may block and needs no locking.
class RecordDelivery {
 public:
  virtual ~RecordDelivery() = default;
  // Called once when the worker starts (e.g. connect and create the table at once, so a database
  // that is down at start-up is reported then). `retry` means: not reachable yet.
  virtual DeliveryResult start() { return {}; }
  virtual DeliveryResult deliver(const AccountingRow& row) = 0;
  // For logs, e.g. "postgresql://acct@db/mediaproxy" or "127.0.0.1:1813".
  virtual std::string target() const = 0;
};

struct DeliveryWorkerSettings {
  std::string name;                  // "database", "radius": the log prefix
  std::size_t queue_limit = 100000;  // records held in memory only (no spool, or a disk error)
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{30000};
};

// Boost has no retry/back-off facility (Asio has timers only), so this is the small one we need:
// doubles from `initial` up to `max`, back to `initial` after a success.
class CappedBackoff {
 public:
  CappedBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), next_(initial) {}
  std::chrono::milliseconds next();  // the delay to wait now; doubles the following one
  void reset() { next_ = initial_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds next_;
};

class DeliveryWorker {
 public:
  struct Counters {
    std::uint64_t delivered = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t dropped = 0;  // refused by the target, or no room (spool or memory queue full)
  };
  // Called on the delivery thread after a record was delivered (or found already there).
  using DeliveredCallback = std::function<void(const AccountingRow&)>;

  // Starts the threads (after daemonizing: threads do not survive fork). `spool` may be null
  // (memory only); records a previous run left in it are delivered first.
  DeliveryWorker(DeliveryWorkerSettings settings, std::unique_ptr<RecordDelivery> delivery,
                 std::unique_ptr<RecordSpool> spool, DeliveredCallback delivered = nullptr);
  // Spools what is still in the inbox, stops delivering after the record in hand (spooled records
  // stay on disk for the next start; memory-only ones are delivered while the target answers,
  // then logged in full).
  ~DeliveryWorker();
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  // Never blocks on the disk or the network: appends to the in-memory inbox and returns.
  void enqueue(AccountingRow row);

  // True once every record was spooled and delivered (or dropped) and no thread holds one
  // (false on timeout).
  bool wait_until_idle(std::chrono::milliseconds timeout);
  Counters counters() const;
  // The target's last error, "" while it takes records.
  std::string last_error() const;
  // Records waiting (inbox and delivery queue).
  std::size_t backlog() const;
  // All of the above at once, for metrics.
  AccountingBackendStatus status() const;

 private:
  struct Queued {
    AccountingRow row;
    std::optional<std::uint64_t> sequence;  // in the spool; nullopt: memory only
  };

  void write_spool();
  void deliver_all();
  void queue_for_delivery(AccountingRow row, std::optional<std::uint64_t> sequence);
  void forget(const Queued& queued);
  void note_failure(const std::string& detail);
  void note_success();
  bool idle_locked() const;
  bool sleep_unless_stopped(std::chrono::milliseconds delay);

  DeliveryWorkerSettings settings_;
  std::unique_ptr<RecordDelivery> delivery_;  // delivery thread only
  std::unique_ptr<RecordSpool> spool_;
  DeliveredCallback delivered_;
  std::string target_;

  mutable std::mutex mutex_;
  std::condition_variable inbox_ready_;
  std::condition_variable queue_ready_;
  std::condition_variable idle_;
  std::deque<AccountingRow> inbox_;  // not on disk yet
  std::deque<Queued> queue_;         // spooled (or memory only), in delivery order
  std::size_t memory_only_ = 0;      // entries of queue_ without a spool file
  bool writing_ = false;             // the spool writer holds a record
  bool delivering_ = false;          // the delivery thread holds a record
  bool stop_writer_ = false;
  bool stop_delivery_ = false;
  bool failing_ = false;
  std::uint64_t failed_attempts_ = 0;
  Counters counters_;
  std::string last_error_;
  std::thread writer_;
  std::thread deliverer_;
};

}  // namespace mpx::dispatcher
