// make_accounting_backends: the log back-end always, then the listed ones in a fixed order; the
// spool directories are opened before start() (before daemonizing); the first error is the one
// reported, with the same text as the back-end's own check.
#include "dispatcher/accounting/make_accounting_backends.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dispatcher/accounting/database_backend.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher {
namespace {

class MakeAccountingBackends : public ::testing::Test {
 protected:
  Result<PreparedAccountingBackends> make() const {
    return make_accounting_backends(config_, runtime_.path());
  }
  // The error of make(), "" if it succeeded.
  std::string error() const {
    const auto made = make();
    return made ? std::string() : made.error().message;
  }

  test::TempDir runtime_{"mpx-accounting-factory"};
  config::Config config_;
};

std::vector<std::string> started_names(PreparedAccountingBackends prepared) {
  std::vector<std::string> names;
  for (auto& backend : prepared) {
    names.emplace_back(backend->start()->name());
  }
  return names;
}

TEST_F(MakeAccountingBackends, WithoutAccountingOnlyTheLog) {
  auto prepared = make();
  ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
  EXPECT_EQ(started_names(std::move(prepared).value()), std::vector<std::string>{"log"});
}

TEST_F(MakeAccountingBackends, DatabaseSpoolIsOpenedBeforeStart) {
  config_.dispatcher.accounting = {config::AccountingBackend::database};
  auto prepared = make();
  ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
  EXPECT_TRUE(std::filesystem::is_directory(runtime_.path() / "accounting-spool" / "database"));
  EXPECT_EQ(started_names(std::move(prepared).value()),
            (std::vector<std::string>{"log", "database"}));
}

TEST_F(MakeAccountingBackends, ReportsTheDatabaseSettingsError) {
  config_.dispatcher.accounting = {config::AccountingBackend::database};
  config_.database.dburi = "oracle://u@h/db";
  EXPECT_EQ(error(), database_backend_settings(config_.database, runtime_.path()).error().message);
}

TEST_F(MakeAccountingBackends, ReportsAnUnusableSpoolDirectory) {
  config_.dispatcher.accounting = {config::AccountingBackend::database};
  config_.dispatcher.accounting_spool_dir = "/proc/self/no/such/spool";
  EXPECT_NE(error().find("/proc/self/no/such/spool"), std::string::npos) << error();
}

TEST_F(MakeAccountingBackends, DatabaseIsCheckedBeforeRadiusWhateverTheOrderWritten) {
  config_.dispatcher.accounting = {config::AccountingBackend::radius,
                                   config::AccountingBackend::database};
  config_.database.dburi = "oracle://u@h/db";
  config_.radius.config_file = "/nonexistent/client.conf";
  EXPECT_NE(error().find("unsupported scheme"), std::string::npos) << error();
  config_.database.dburi.clear();
  EXPECT_NE(error().find("/nonexistent/client.conf"), std::string::npos) << error();
}

}  // namespace
}  // namespace mpx::dispatcher
