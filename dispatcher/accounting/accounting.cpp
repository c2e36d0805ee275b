// Accounting fan-out: every back-end gets every record; an exception from one is logged with the
// back-end's name and the session's call id, and the others still run.
#include "dispatcher/accounting/accounting.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace mpx::dispatcher {

void Accounting::add(std::unique_ptr<AccountingBackend> backend) {
  if (backend) {
    backends_.push_back(std::move(backend));
  }
}

void Accounting::record(const protocol::SessionStatistics& session) {
  for (const auto& backend : backends_) {
    try {
      backend->record(session);
    } catch (const std::exception& e) {
      spdlog::error("accounting back-end '{}' failed for call_id {}: {}", backend->name(),
                    session.call_id, e.what());
    } catch (...) {
      spdlog::error("accounting back-end '{}' failed for call_id {}: unknown exception",
                    backend->name(), session.call_id);
    }
  }
}

AccountingStatuses Accounting::statuses() const {
  AccountingStatuses out;
  for (const auto& backend : backends_) {
    if (auto status = backend->status()) {
      out.emplace_back(backend->name(), *status);
    }
  }
  return out;
}

}  // namespace mpx::dispatcher
