// The database back-end with its durable spool on SQLite: records that arrive while the database
// cannot be opened wait on disk and each arrives exactly once when it comes back; a dispatcher
// restart in the middle of the outage (back-end destroyed, a new one on the same spool) loses and
// doubles nothing; a record already stored (a crash between the insert and the spool's delete) is
// not doubled; the spool is empty once everything is delivered. record() only enqueues: the spool
// append happens on the back-end's writer thread.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>

#include "dispatcher/accounting/accounting_spool.hpp"
#include "dispatcher/accounting/database_backend.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher {
namespace {

using namespace std::chrono_literals;

protocol::SessionStatistics ended_call(int n) {
  protocol::SessionStatistics s;
  s.call_id = "spool-call-" + std::to_string(n) + "@host";
  s.from_tag = "ft-" + std::to_string(n);
  s.to_tag = (n % 3 == 0) ? std::nullopt : std::optional<std::string>("tt-" + std::to_string(n));
  s.duration = static_cast<std::uint32_t>(n);
  s.streams.push_back(protocol::StreamStatistics{});
  s.streams[0].media_type = "audio";
  s.streams[0].status = "closed";
  return s;
}

std::string sqlite(const std::filesystem::path& db, const std::string& sql) {
  auto result = test::run({"sqlite3", "-batch", "-separator", "|", db.string(), sql});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

// The database lives in a directory that does not exist yet: SQLite cannot open it (the outage)
// until the test creates the directory.
struct Outage {
  test::TempDir dir{"mpx-acct-spool"};
  std::filesystem::path db_dir = dir.path() / "db-not-yet";
  std::filesystem::path db = db_dir / "acct.db";
  std::filesystem::path spool_dir = dir.path() / "accounting-spool" / "database";

  DatabaseBackendSettings settings() const {
    config::DatabaseConfig database;
    database.dburi = "sqlite://" + db.string();
    auto value = database_backend_settings(database, dir.path()).value();
    value.retry_initial = 20ms;
    value.retry_max = 100ms;
    return value;
  }
  std::unique_ptr<AccountingSpool> spool() const {
    auto opened = AccountingSpool::open(AccountingSpoolSettings{spool_dir, 1000});
    EXPECT_TRUE(opened.has_value()) << opened.error().message;
    return std::move(opened).value();
  }
  std::size_t spooled_files() const {
    std::size_t n = 0;
    for (const auto& item : std::filesystem::directory_iterator(spool_dir)) {
      n += item.path().extension() == ".rec" ? 1U : 0U;
    }
    return n;
  }
  // Every stored call_id with its count, in call_id order.
  std::string stored() const {
    return sqlite(db, "SELECT call_id || ':' || count(*) FROM media_sessions GROUP BY call_id "
                      "ORDER BY call_id");
  }
};

std::string expected_calls(int from, int to) {
  std::vector<std::string> lines;
  for (int n = from; n <= to; ++n) {
    lines.push_back("spool-call-" + std::to_string(n) + "@host:1\n");
  }
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const auto& line : lines) {
    all += line;
  }
  return all;
}

TEST(DatabaseAccountingSpool, OutageThenRecoveryDeliversEachRecordExactlyOnce) {
  Outage outage;
  DatabaseAccountingBackend backend(outage.settings(), outage.spool());
  for (int n = 1; n <= 20; ++n) {
    backend.record(ended_call(n));
  }
  EXPECT_FALSE(backend.wait_until_idle(300ms));
  // The writer thread spools behind record(); all 20 reach the disk while the database is down.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (outage.spooled_files() < 20U && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(outage.spooled_files(), 20U) << "every record is on disk while the database is down";
  std::filesystem::create_directory(outage.db_dir);
  for (int n = 21; n <= 25; ++n) {
    backend.record(ended_call(n));
  }
  ASSERT_TRUE(backend.wait_until_idle(20s)) << backend.last_error();
  EXPECT_EQ(backend.counters().inserted, 25U);
  EXPECT_EQ(backend.counters().dropped, 0U);
  EXPECT_EQ(outage.stored(), expected_calls(1, 25));
  EXPECT_EQ(outage.spooled_files(), 0U);
  // The statistics arrive intact through the spool.
  EXPECT_EQ(sqlite(outage.db, "SELECT info FROM media_sessions WHERE call_id = "
                              "'spool-call-3@host'"),
            protocol::to_json(ended_call(3)) + "\n");
}

TEST(DatabaseAccountingSpool, RestartDuringTheOutageLosesAndDoublesNothing) {
  Outage outage;
  {
    DatabaseAccountingBackend backend(outage.settings(), outage.spool());
    for (int n = 1; n <= 10; ++n) {
      backend.record(ended_call(n));
    }
    EXPECT_FALSE(backend.wait_until_idle(200ms));
  }  // the dispatcher stops while the database is still down
  EXPECT_EQ(outage.spooled_files(), 10U);

  std::filesystem::create_directory(outage.db_dir);
  DatabaseAccountingBackend backend(outage.settings(), outage.spool());
  for (int n = 11; n <= 15; ++n) {
    backend.record(ended_call(n));
  }
  ASSERT_TRUE(backend.wait_until_idle(20s)) << backend.last_error();
  EXPECT_EQ(backend.counters().inserted, 15U);
  EXPECT_EQ(outage.stored(), expected_calls(1, 15));
  EXPECT_EQ(outage.spooled_files(), 0U);
  // Records of the previous run go first.
  EXPECT_EQ(sqlite(outage.db, "SELECT call_id FROM media_sessions ORDER BY rowid LIMIT 1"),
            "spool-call-1@host\n");
}

TEST(DatabaseAccountingSpool, ReplayOfAnAlreadyStoredRecordIsNotDoubled) {
  Outage outage;
  std::filesystem::create_directory(outage.db_dir);
  {
    DatabaseAccountingBackend backend(outage.settings(), outage.spool());
    backend.record(ended_call(1));
    backend.record(ended_call(3));  // no to_tag
    ASSERT_TRUE(backend.wait_until_idle(10s)) << backend.last_error();
  }
  // A crash between the insert and the spool's delete leaves the files behind: put them back.
  {
    auto spool = outage.spool();
    ASSERT_TRUE(spool->append(accounting_row(ended_call(1))).has_value());
    ASSERT_TRUE(spool->append(accounting_row(ended_call(3))).has_value());
  }
  DatabaseAccountingBackend backend(outage.settings(), outage.spool());
  ASSERT_TRUE(backend.wait_until_idle(10s)) << backend.last_error();
  EXPECT_EQ(backend.counters().duplicates, 2U);
  EXPECT_EQ(backend.counters().inserted, 0U);
  EXPECT_EQ(outage.stored(), "spool-call-1@host:1\nspool-call-3@host:1\n");
  EXPECT_EQ(outage.spooled_files(), 0U);
}

TEST(DatabaseAccountingSpool, FullSpoolRefusesAndCountsTheRecord) {
  Outage outage;
  auto opened = AccountingSpool::open(AccountingSpoolSettings{outage.spool_dir, 3});
  ASSERT_TRUE(opened.has_value());
  DatabaseAccountingBackend backend(outage.settings(), std::move(opened).value());
  for (int n = 1; n <= 5; ++n) {
    backend.record(ended_call(n));
  }
  // The spool writer works behind record(): wait for it to have refused the last two.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (backend.counters().dropped < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(backend.counters().dropped, 2U);
  EXPECT_EQ(outage.spooled_files(), 3U);
  std::filesystem::create_directory(outage.db_dir);
  ASSERT_TRUE(backend.wait_until_idle(20s)) << backend.last_error();
  EXPECT_EQ(outage.stored(), expected_calls(1, 3));
}

}  // namespace
}  // namespace mpx::dispatcher
