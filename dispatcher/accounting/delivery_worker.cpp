// The delivery worker's two threads (spool writer, delivery), its back-off and its logs. The front
// record of the delivery queue stays there until the target confirmed it (or refused it for a
// reason of its own), so an outage never loses it and records keep their order.
#include "dispatcher/accounting/delivery_worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace mpx::dispatcher {

std::chrono::milliseconds CappedBackoff::next() {
  const auto now = next_;
  next_ = std::min(next_ * 2, max_);
  return now;
}

DeliveryWorker::DeliveryWorker(DeliveryWorkerSettings settings,
                               std::unique_ptr<RecordDelivery> delivery,
                               std::unique_ptr<RecordSpool> spool, DeliveredCallback delivered)
    : settings_(std::move(settings)),
      delivery_(std::move(delivery)),
      spool_(std::move(spool)),
      delivered_(std::move(delivered)),
      target_(delivery_->target()) {
  if (spool_) {
    for (auto& entry : spool_->take_pending()) {
      queue_.push_back(Queued{std::move(entry.row), entry.sequence});
    }
    writer_ = std::thread([this] { write_spool(); });
  }
  deliverer_ = std::thread([this] { deliver_all(); });
}

DeliveryWorker::~DeliveryWorker() {
  // The writer first, so everything enqueued is on disk before delivery stops.
  {
    std::lock_guard lock(mutex_);
    stop_writer_ = true;
  }
  inbox_ready_.notify_all();
  if (writer_.joinable()) {
    writer_.join();
  }
  {
    std::lock_guard lock(mutex_);
    stop_delivery_ = true;
  }
  queue_ready_.notify_all();
  if (deliverer_.joinable()) {
    deliverer_.join();
  }
  std::size_t kept = 0;
  for (const auto& queued : queue_) {
    if (queued.sequence) {
      ++kept;
      continue;
    }
    spdlog::error("{} accounting: not delivered at shutdown, call_id {}: {}", settings_.name,
                  queued.row.call_id, queued.row.info);
  }
  if (kept > 0) {
    spdlog::warn("{} accounting: {} records not delivered yet stay in the spool {} for the next "
                 "start",
                 settings_.name, kept, spool_->location());
  }
}

void DeliveryWorker::enqueue(AccountingRow row) {
  std::unique_lock lock(mutex_);
  if (!spool_) {
    lock.unlock();
    queue_for_delivery(std::move(row), std::nullopt);
    return;
  }
  if (inbox_.size() >= settings_.queue_limit) {
    ++counters_.dropped;
    spdlog::error("{} accounting: the spool writer is {} records behind, record dropped, call_id "
                  "{}: {}",
                  settings_.name, inbox_.size(), row.call_id, row.info);
    return;
  }
  inbox_.push_back(std::move(row));
  lock.unlock();
  inbox_ready_.notify_one();
}

void DeliveryWorker::write_spool() {
  while (true) {
    AccountingRow row;
    {
      std::unique_lock lock(mutex_);
      inbox_ready_.wait(lock, [this] { return stop_writer_ || !inbox_.empty(); });
      if (inbox_.empty()) {
        return;  // stopping, and everything is on disk
      }
      row = std::move(inbox_.front());
      inbox_.pop_front();
      writing_ = true;
    }
    auto appended = spool_->append(row);
    if (appended) {
      queue_for_delivery(std::move(row), appended.value());
    } else if (appended.error().message == kAccountingSpoolFull) {
      std::lock_guard lock(mutex_);
      ++counters_.dropped;  // the spool logged it with its JSON
    } else {
      // A disk error: memory is better than nothing (the spool logged the error).
      queue_for_delivery(std::move(row), std::nullopt);
    }
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      if (idle_locked()) {
        idle_.notify_all();
      }
    }
  }
}

void DeliveryWorker::queue_for_delivery(AccountingRow row, std::optional<std::uint64_t> sequence) {
  {
    std::lock_guard lock(mutex_);
    if (!sequence) {
      if (memory_only_ >= settings_.queue_limit) {
        ++counters_.dropped;
        spdlog::error("{} accounting: queue full ({} records), record dropped, call_id {}: {}",
                      settings_.name, memory_only_, row.call_id, row.info);
        return;
      }
      ++memory_only_;
    }
    queue_.push_back(Queued{std::move(row), sequence});
  }
  queue_ready_.notify_one();
}

void DeliveryWorker::forget(const Queued& queued) {
  if (spool_ && queued.sequence) {
    (void)spool_->remove(*queued.sequence);  // an error is logged there; a replay is harmless
  }
}

bool DeliveryWorker::idle_locked() const {
  return inbox_.empty() && queue_.empty() && !writing_ && !delivering_;
}

bool DeliveryWorker::wait_until_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return idle_locked(); });
}

DeliveryWorker::Counters DeliveryWorker::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::string DeliveryWorker::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

std::size_t DeliveryWorker::backlog() const {
  std::lock_guard lock(mutex_);
  return inbox_.size() + queue_.size();
}

AccountingBackendStatus DeliveryWorker::status() const {
  const std::lock_guard lock(mutex_);
  return AccountingBackendStatus{counters_.delivered, counters_.duplicates, counters_.dropped,
                                 inbox_.size() + queue_.size(), failing_};
}

void DeliveryWorker::note_failure(const std::string& detail) {
  std::lock_guard lock(mutex_);
  ++failed_attempts_;
  if (!failing_) {
    failing_ = true;
    spdlog::warn("{} accounting: {} is not taking records ({}); they wait{} and are retried",
                 settings_.name, target_, detail,
                 spool_ ? " in the spool " + spool_->location() : std::string(" in memory"));
  } else if (detail != last_error_) {
    spdlog::debug("{} accounting: {} still failing: {}", settings_.name, target_, detail);
  }
  last_error_ = detail;
}

void DeliveryWorker::note_success() {
  std::lock_guard lock(mutex_);
  if (failing_) {
    spdlog::warn("{} accounting: {} takes records again (after {} failed attempts); {} records "
                 "waiting are being delivered",
                 settings_.name, target_, failed_attempts_, inbox_.size() + queue_.size());
  }
  failing_ = false;
  failed_attempts_ = 0;
  last_error_.clear();
}

bool DeliveryWorker::sleep_unless_stopped(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !queue_ready_.wait_for(lock, delay, [this] { return stop_delivery_; });
}

void DeliveryWorker::deliver_all() {
  CappedBackoff backoff(settings_.retry_initial, settings_.retry_max);
  const auto started = delivery_->start();
  if (started.outcome == DeliveryOutcome::retry) {
    note_failure(started.detail);
  } else {
    note_success();
  }
  while (true) {
    Queued queued;
    {
      std::unique_lock lock(mutex_);
      queue_ready_.wait(lock, [this] { return stop_delivery_ || !queue_.empty(); });
      // At a stop, spooled records stay on disk for the next start; memory-only ones are tried
      // while the target answers, since nothing else would keep them.
      if (queue_.empty() || (stop_delivery_ && queue_.front().sequence)) {
        return;
      }
      queued = queue_.front();
      delivering_ = true;
    }
    const auto result = delivery_->deliver(queued.row);
    if (result.outcome == DeliveryOutcome::retry) {
      note_failure(result.detail);
      bool stopping = false;
      {
        std::lock_guard lock(mutex_);
        delivering_ = false;
        stopping = stop_delivery_;
      }
      if (stopping || !sleep_unless_stopped(backoff.next())) {
        return;
      }
      continue;
    }
    backoff.reset();
    note_success();  // a refusal is the record's own: the target itself works
    if (result.outcome == DeliveryOutcome::rejected) {
      spdlog::error("{} accounting: {} refused the record ({}), dropped, call_id {}: {}",
                    settings_.name, target_, result.detail, queued.row.call_id, queued.row.info);
    } else if (result.outcome == DeliveryOutcome::duplicate) {
      spdlog::info("{} accounting: call_id {} from_tag {} is already stored", settings_.name,
                   queued.row.call_id, queued.row.from_tag);
    }
    forget(queued);
    if (result.outcome != DeliveryOutcome::rejected && delivered_) {
      delivered_(queued.row);
    }
    std::lock_guard lock(mutex_);
    queue_.pop_front();
    if (!queued.sequence) {
      --memory_only_;
    }
    switch (result.outcome) {
      case DeliveryOutcome::delivered:
        ++counters_.delivered;
        break;
      case DeliveryOutcome::duplicate:
        ++counters_.duplicates;
        break;
      default:
        ++counters_.dropped;
        break;
    }
    delivering_ = false;
    if (idle_locked()) {
      idle_.notify_all();
    }
  }
}

}  // namespace mpx::dispatcher
