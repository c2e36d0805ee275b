// Builds the accounting back-ends the configuration asks for, as make_dialog_terminator builds the
// dialog terminator: the log back-end always, then `database` and `radius` when [Dispatcher]
// accounting lists them (in that order, whatever the order written).
//
// In two steps, because the daemon forks. make_accounting_backends() checks and opens everything
// that can fail ([Database] dburi, the [Radius] client.conf and dictionaries, each back-end's spool
// directory) while the daemon still has its terminal, so a failure is reported there; start()
// then creates the back-end and its worker threads, after daemonizing, since threads do not
// survive fork.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "dispatcher/accounting/accounting.hpp"

namespace mpx::dispatcher {

// One configured back-end, checked and with its files open, not running yet.
class PreparedAccountingBackend {
 public:
  virtual ~PreparedAccountingBackend() = default;
  // Logs where its records go (if anywhere but the log) and starts it. Call it once.
  virtual std::unique_ptr<AccountingBackend> start() = 0;
};

using PreparedAccountingBackends = std::vector<std::unique_ptr<PreparedAccountingBackend>>;

// The back-ends in the order they get each record. `runtime_dir` stands in for a state directory:
// the default SQLite file and a relative accounting_spool_dir live there. The error is the first
// one, one line for the operator.
Result<PreparedAccountingBackends> make_accounting_backends(const config::Config& config,
                                                            const std::filesystem::path& runtime_dir);

}  // namespace mpx::dispatcher
