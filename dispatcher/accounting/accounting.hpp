// The dispatcher's accounting hook: called exactly once with the final statistics of every ended
// session (the relay's `remove` answer or its `expired` notice), already annotated by the
// dispatcher (dialog_id, timed_out, all_streams_ice). Back-ends must not block the caller: the
// answer to the proxy never waits for accounting. SQL and RADIUS back-ends come in their own
// issue; this file holds the interface, the fan-out to several back-ends, and the log back-end.
#pragma once

#include <memory>
#include <vector>

#include "common/protocol/session_statistics.hpp"

namespace mpx::dispatcher {

class AccountingBackend {
 public:
  virtual ~AccountingBackend() = default;
  virtual const char* name() const = 0;
  // Takes the record; must return quickly (queue it if delivery can be slow).
  virtual void record(const protocol::SessionStatistics& session) = 0;
};

// Sends each record to every configured back-end; one back-end's failure never affects another.
class Accounting {
 public:
  void add(std::unique_ptr<AccountingBackend> backend);
  void record(const protocol::SessionStatistics& session);
  std::size_t backend_count() const { return backends_.size(); }

 private:
  std::vector<std::unique_ptr<AccountingBackend>> backends_;
};

// Writes one INFO line per ended session: call id, tags, duration, per-stream bytes and status.
class LogAccountingBackend final : public AccountingBackend {
 public:
  const char* name() const override { return "log"; }
  void record(const protocol::SessionStatistics& session) override;
};

}  // namespace mpx::dispatcher
