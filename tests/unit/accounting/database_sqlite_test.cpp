// The database accounting back-end on SQLite: the table in MediaProxy's schema is created, records
// arrive with the exact statistics JSON, a record delivered twice is stored once, custom names
// work, a record waits while the database cannot be opened, and a read-only database gives one
// error line with the DDL to run by hand.
#include "dispatcher/accounting/database_backend.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher {
namespace {

using namespace std::chrono_literals;

protocol::SessionStatistics answered_call(const std::string& call_id,
                                          std::optional<std::string> to_tag = "totag-1") {
  protocol::SessionStatistics s;
  s.call_id = call_id;
  s.from_tag = "fromtag-1";
  s.from_uri = "sip:alice@example.com";
  s.to_tag = std::move(to_tag);
  s.to_uri = "sip:bob@example.com";
  s.start_time = 1700000000.25;
  s.duration = 42;
  s.caller_ua = "Caller \"UA\" \\ 1";
  s.streams.push_back(protocol::StreamStatistics{});
  s.streams[0].media_type = "audio";
  s.streams[0].status = "closed";
  s.streams[0].caller_bytes = 4210560;
  s.streams[0].callee_bytes = 4207120;
  s.streams[0].caller_local = "192.0.2.1:40000";
  s.dispatcher = protocol::DispatcherAnnotations{std::string("dlg-1"), false, std::nullopt};
  return s;
}

std::string sqlite(const std::filesystem::path& db, const std::string& sql) {
  auto result = test::run({"sqlite3", "-batch", "-separator", "|", db.string(), sql});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

DatabaseBackendSettings settings_for(const config::DatabaseConfig& database,
                                     const std::filesystem::path& state_dir) {
  auto settings = database_backend_settings(database, state_dir);
  EXPECT_TRUE(settings.has_value()) << settings.error().message;
  auto value = settings.value();
  value.retry_initial = 20ms;
  value.retry_max = 100ms;
  return value;
}

TEST(DatabaseAccountingSqlite, DefaultFileTableAndExactJson) {
  test::TempDir dir("mpx-acct");
  const auto session = answered_call("call-1@host");
  {
    DatabaseAccountingBackend backend(settings_for(config::DatabaseConfig{}, dir.path()));
    backend.record(session);
    ASSERT_TRUE(backend.wait_until_idle(10s));
    EXPECT_EQ(backend.counters().inserted, 1U);
    EXPECT_EQ(backend.last_error(), "");
  }
  const auto db = dir.path() / "mpx-accounting.sqlite";
  ASSERT_TRUE(std::filesystem::exists(db));
  const auto schema = sqlite(db, ".schema media_sessions");
  EXPECT_NE(schema.find("call_id VARCHAR(255) NOT NULL"), std::string::npos) << schema;
  EXPECT_NE(schema.find("from_tag VARCHAR(64) NOT NULL"), std::string::npos) << schema;
  EXPECT_NE(schema.find("to_tag VARCHAR(64) NULL"), std::string::npos) << schema;
  EXPECT_NE(schema.find("info BLOB"), std::string::npos) << schema;
  EXPECT_NE(schema.find("CREATE UNIQUE INDEX callid_idx ON media_sessions (call_id, from_tag, "
                        "to_tag)"),
            std::string::npos)
      << schema;
  EXPECT_EQ(sqlite(db, "SELECT call_id, from_tag, to_tag, info FROM media_sessions"),
            "call-1@host|fromtag-1|totag-1|" + protocol::to_json(session) + "\n");
}

TEST(DatabaseAccountingSqlite, DuplicateIsNotDoubledWithOrWithoutToTag) {
  test::TempDir dir("mpx-acct");
  const auto with_tag = answered_call("call-2@host");
  const auto without_tag = answered_call("call-3@host", std::nullopt);
  {
    DatabaseAccountingBackend backend(settings_for(config::DatabaseConfig{}, dir.path()));
    backend.record(with_tag);
    backend.record(without_tag);
    backend.record(with_tag);
    backend.record(without_tag);
    ASSERT_TRUE(backend.wait_until_idle(10s));
    EXPECT_EQ(backend.counters().inserted, 2U);
    EXPECT_EQ(backend.counters().duplicates, 2U);
  }
  {
    // A later run (a replay after a restart) does not double them either.
    DatabaseAccountingBackend backend(settings_for(config::DatabaseConfig{}, dir.path()));
    backend.record(with_tag);
    backend.record(without_tag);
    ASSERT_TRUE(backend.wait_until_idle(10s));
    EXPECT_EQ(backend.counters().duplicates, 2U);
  }
  const auto db = dir.path() / "mpx-accounting.sqlite";
  EXPECT_EQ(sqlite(db, "SELECT call_id, IFNULL(to_tag, 'NULL') FROM media_sessions ORDER BY id"),
            "call-2@host|totag-1\ncall-3@host|NULL\n");
}

TEST(DatabaseAccountingSqlite, CustomTableAndColumnNamesAndDburi) {
  test::TempDir dir("mpx-acct");
  config::DatabaseConfig database;
  database.dburi = "sqlite:custom.db";  // relative: in the state directory
  database.sessions_table = "calls";
  database.callid_column = "cid";
  database.fromtag_column = "ftag";
  database.totag_column = "ttag";
  database.info_column = "stats";
  const auto session = answered_call("call-4@host");
  {
    DatabaseAccountingBackend backend(settings_for(database, dir.path()));
    backend.record(session);
    ASSERT_TRUE(backend.wait_until_idle(10s));
    EXPECT_EQ(backend.counters().inserted, 1U);
  }
  const auto db = dir.path() / "custom.db";
  EXPECT_NE(sqlite(db, ".schema calls").find("CREATE UNIQUE INDEX calls_callid_idx ON calls"),
            std::string::npos);
  EXPECT_EQ(sqlite(db, "SELECT cid, ftag, ttag, stats FROM calls"),
            "call-4@host|fromtag-1|totag-1|" + protocol::to_json(session) + "\n");
}

TEST(DatabaseAccountingSqlite, RecordWaitsWhileTheDatabaseCannotBeOpened) {
  test::TempDir dir("mpx-acct");
  const auto later = dir.path() / "not-yet";
  config::DatabaseConfig database;
  database.dburi = "sqlite://" + (later / "acct.db").string();
  const auto session = answered_call("call-5@host");
  DatabaseAccountingBackend backend(settings_for(database, dir.path()));
  backend.record(session);
  EXPECT_FALSE(backend.wait_until_idle(300ms));
  EXPECT_NE(backend.last_error().find("cannot connect"), std::string::npos)
      << backend.last_error();
  std::filesystem::create_directory(later);
  ASSERT_TRUE(backend.wait_until_idle(10s));
  EXPECT_EQ(backend.counters().inserted, 1U);
  EXPECT_EQ(sqlite(later / "acct.db", "SELECT call_id FROM media_sessions"), "call-5@host\n");
}

TEST(DatabaseAccountingSqlite, FullQueueDropsTheNewRecordAndCountsIt) {
  test::TempDir dir("mpx-acct");
  config::DatabaseConfig database;
  database.dburi = "sqlite://" + (dir.path() / "missing-dir" / "acct.db").string();
  auto settings = settings_for(database, dir.path());
  settings.queue_limit = 1;
  DatabaseAccountingBackend backend(settings);
  backend.record(answered_call("call-6@host"));
  backend.record(answered_call("call-7@host"));
  EXPECT_EQ(backend.counters().dropped, 1U);
  EXPECT_EQ(backend.counters().inserted, 0U);
}

// Root ignores file modes, so as root the open runs in a child that became `nobody`.
std::string open_error_as_unprivileged(const DatabaseTarget& target) {
  if (::geteuid() != 0) {
    DatabaseWriter writer(target, AccountingTable{});
    auto opened = writer.open();
    return opened ? "" : opened.error().message;
  }
  int fds[2];
  if (::pipe(fds) != 0) {
    return "pipe failed";
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string message = "setuid failed";
    if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
      DatabaseWriter writer(target, AccountingTable{});
      auto opened = writer.open();
      message = opened ? "" : opened.error().message;
    }
    const auto written = ::write(fds[1], message.data(), message.size());
    ::_exit(written < 0 ? 1 : 0);
  }
  ::close(fds[1]);
  std::string message;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) {
    message.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return message;
}

TEST(DatabaseAccountingSqlite, ReadOnlyDatabaseGivesOneLineWithTheDdl) {
  test::TempDir dir("mpx-acct");
  const auto db = dir.path() / "readonly.db";
  sqlite(db, "CREATE TABLE other (x INTEGER)");
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
  std::filesystem::permissions(db, std::filesystem::perms(0444));
  auto target = parse_dburi("sqlite://" + db.string(), dir.path());
  ASSERT_TRUE(target.has_value());
  const auto message = open_error_as_unprivileged(target.value());
  EXPECT_NE(message.find("cannot create the accounting table media_sessions"), std::string::npos)
      << message;
  EXPECT_NE(message.find("readonly"), std::string::npos) << message;
  EXPECT_NE(message.find("create it by hand"), std::string::npos) << message;
  EXPECT_NE(message.find(accounting_table_ddl(DatabaseKind::sqlite, AccountingTable{})),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

}  // namespace
}  // namespace mpx::dispatcher
