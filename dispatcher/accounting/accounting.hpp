// The dispatcher's accounting hook: called exactly once with the final statistics of every ended
// session (the relay's `remove` answer or its `expired` notice), already annotated by the
// dispatcher (dialog_id, timed_out, all_streams_ice). Back-ends must not block the caller: the
// answer to the proxy never waits for accounting. This file holds the interface, the fan-out to
// several back-ends, and the log back-end; the SQL back-end is database_backend.hpp, RADIUS is
// radius_backend.hpp, both thin adapters on the shared delivery_worker.hpp (spool, retries).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "common/protocol/session_statistics.hpp"

namespace mpx::dispatcher {

// What a back-end that delivers somewhere reports for metrics: records delivered (or found
// already there), dropped, waiting, and whether its target is failing now.
struct AccountingBackendStatus {
  std::uint64_t delivered = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dropped = 0;
  std::size_t backlog = 0;
  bool failing = false;
};

using AccountingStatuses = std::vector<std::pair<std::string, AccountingBackendStatus>>;

class AccountingBackend {
 public:
  virtual ~AccountingBackend() = default;
  virtual const char* name() const = 0;
  // Takes the record; must return quickly (queue it if delivery can be slow). May throw: the
  // fan-out logs the exception and carries on with the other back-ends.
  virtual void record(const protocol::SessionStatistics& session) = 0;
  // Thread-safe; nullopt for a back-end with nothing to report (the log).
  virtual std::optional<AccountingBackendStatus> status() const { return std::nullopt; }
};

// Sends each record to every configured back-end, in the order they were added; one back-end's
// failure (an exception) is logged and never affects another or the caller.
class Accounting {
 public:
  void add(std::unique_ptr<AccountingBackend> backend);
  void record(const protocol::SessionStatistics& session);
  std::size_t backend_count() const { return backends_.size(); }
  // The status of every back-end that reports one, by name, in the order they were added.
  AccountingStatuses statuses() const;

 private:
  std::vector<std::unique_ptr<AccountingBackend>> backends_;
};

// The log back-end's line (without level or time), e.g.
// `accounting: call_id=7a9f@h from_tag=a73 to_tag=8d7f duration=312 timed_out=yes streams=[audio
// status="conntrack timeout" caller_bytes=4210560 callee_bytes=4207120]`. Values that could be
// confused with the layout (spaces, quotes, '=', brackets, control bytes, empty) are quoted as JSON
// strings; a missing to_tag is `-`.
std::string accounting_log_line(const protocol::SessionStatistics& session);

// Writes one INFO line per ended session (accounting_log_line) to `logger`, or to the default
// logger when none is given.
class LogAccountingBackend final : public AccountingBackend {
 public:
  explicit LogAccountingBackend(std::shared_ptr<spdlog::logger> logger = nullptr);
  const char* name() const override { return "log"; }
  void record(const protocol::SessionStatistics& session) override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace mpx::dispatcher
