// The database accounting back-end against a throw-away PostgreSQL cluster: initdb and pg_ctl from
// Debian's postgresql-15 run as the postgres user in a temporary directory, listening on a unix
// socket there and on a free TCP port on 127.0.0.1; the cluster is stopped and deleted when the
// fixture ends, also when a test fails. Checks: the table is created, each record arrives exactly
// once with the exact JSON (also when delivered twice, with and without to_tag), and a user without
// the right to create the table gets the error line with the DDL, and an outage with a
// dispatcher restart in its middle loses and doubles nothing (the durable spool).
#include "dispatcher/accounting/database_backend.hpp"
#include "dispatcher/accounting/accounting_spool.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tests/integration/accounting/postgres_cluster.hpp"
#include "tests/support/privileged.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher {
namespace {

using namespace std::chrono_literals;

using accounting_test::kBin;
using accounting_test::PostgresCluster;

class DatabaseAccountingPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    MPX_REQUIRE(test::missing_root());
    MPX_REQUIRE(test::missing_path(kBin + "initdb", "PostgreSQL 15 (Debian package postgresql)"));
    MPX_REQUIRE(test::missing_tool("runuser"));
    cluster_ = std::make_unique<PostgresCluster>();
    const auto problem = cluster_->start();
    ASSERT_EQ(problem, "");
    auto created = cluster_->psql("postgres", "CREATE DATABASE acct");
    ASSERT_EQ(created.exit_code, 0) << created.err;
  }

  DatabaseBackendSettings settings(const std::string& user) {
    config::DatabaseConfig database;
    database.dburi = cluster_->uri(user, "acct");
    auto value = database_backend_settings(database, "/nonexistent");
    EXPECT_TRUE(value.has_value()) << value.error().message;
    auto result = value.value();
    result.retry_initial = 20ms;
    result.retry_max = 100ms;
    return result;
  }

  std::unique_ptr<PostgresCluster> cluster_;
};

protocol::SessionStatistics call(const std::string& call_id, std::optional<std::string> to_tag) {
  protocol::SessionStatistics s;
  s.call_id = call_id;
  s.from_tag = "ft";
  s.to_tag = std::move(to_tag);
  s.start_time = 1700000000.5;
  s.duration = 7;
  s.caller_ua = "UA with \\ backslash and \"quotes\"";  // bytea escapes must not bite
  s.dispatcher = protocol::DispatcherAnnotations{std::nullopt, true, true};
  return s;
}

TEST_F(DatabaseAccountingPostgres, TableCreatedAndEachRecordArrivesExactlyOnce) {
  const auto with_tag = call("pg-1@host", "tt");
  const auto without_tag = call("pg-2@host", std::nullopt);
  {
    DatabaseAccountingBackend backend(settings("postgres"));
    for (int round = 0; round < 2; ++round) {
      backend.record(with_tag);
      backend.record(without_tag);
    }
    ASSERT_TRUE(backend.wait_until_idle(30s)) << backend.last_error();
    EXPECT_EQ(backend.counters().inserted, 2U);
    EXPECT_EQ(backend.counters().duplicates, 2U);
  }
  {
    DatabaseAccountingBackend backend(settings("postgres"));  // a replay by a later run
    backend.record(with_tag);
    backend.record(without_tag);
    ASSERT_TRUE(backend.wait_until_idle(30s)) << backend.last_error();
    EXPECT_EQ(backend.counters().duplicates, 2U);
  }
  auto rows = cluster_->psql("acct",
                             "SELECT call_id, from_tag, coalesce(to_tag, 'NULL'), "
                             "convert_from(info, 'UTF8') FROM media_sessions ORDER BY id");
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  EXPECT_EQ(rows.out, "pg-1@host|ft|tt|" + protocol::to_json(with_tag) + "\npg-2@host|ft|NULL|" +
                          protocol::to_json(without_tag) + "\n");
  auto index = cluster_->psql("acct", "SELECT indexdef FROM pg_indexes WHERE indexname = "
                                      "'callid_idx'");
  EXPECT_NE(index.out.find("UNIQUE INDEX callid_idx ON public.media_sessions USING btree "
                           "(call_id, from_tag, to_tag)"),
            std::string::npos)
      << index.out;
}

TEST_F(DatabaseAccountingPostgres, UserWithoutCreateRightGetsTheDdlThenWorksOnceTableExists) {
  ASSERT_EQ(cluster_->psql("acct", "CREATE ROLE limited LOGIN").exit_code, 0);
  auto target = parse_dburi(cluster_->uri("limited", "acct"), "/");
  ASSERT_TRUE(target.has_value());
  const auto ddl = accounting_table_ddl(DatabaseKind::postgresql, AccountingTable{});
  {
    DatabaseWriter writer(target.value(), AccountingTable{});
    auto opened = writer.open();
    ASSERT_FALSE(opened.has_value());
    const auto& message = opened.error().message;
    EXPECT_NE(message.find("permission denied"), std::string::npos) << message;
    EXPECT_NE(message.find("create it by hand"), std::string::npos) << message;
    EXPECT_NE(message.find(ddl), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // The administrator runs the DDL from the message and grants the rights: then it works.
  auto made = cluster_->psql("acct", ddl + "; GRANT SELECT, INSERT ON media_sessions TO limited");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  DatabaseWriter writer(target.value(), AccountingTable{});
  auto opened = writer.open();
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  auto inserted = writer.insert(accounting_row(call("pg-3@host", "tt")));
  ASSERT_TRUE(inserted.has_value()) << inserted.error().message;
  EXPECT_EQ(inserted.value(), InsertOutcome::inserted);
  auto again = writer.insert(accounting_row(call("pg-3@host", "tt")));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again.value(), InsertOutcome::duplicate);
  EXPECT_EQ(cluster_->psql("acct", "SELECT count(*) FROM media_sessions").out, "1\n");
}

}  // namespace
}  // namespace mpx::dispatcher

namespace mpx::dispatcher {
namespace {

std::unique_ptr<AccountingSpool> open_spool(const std::filesystem::path& dir) {
  auto spool = AccountingSpool::open(AccountingSpoolSettings{dir, 1000});
  EXPECT_TRUE(spool.has_value()) << spool.error().message;
  return std::move(spool).value();
}

TEST_F(DatabaseAccountingPostgres, OutageWithARestartInItsMiddleDeliversEachRecordOnce) {
  test::TempDir spool_dir("mpx-pg-spool");
  auto ended = [](int n) {
    return call("outage-" + std::to_string(n) + "@host",
                n % 4 == 0 ? std::nullopt : std::optional<std::string>("tt"));
  };
  {
    DatabaseAccountingBackend backend(settings("postgres"), open_spool(spool_dir.path()));
    for (int n = 1; n <= 5; ++n) {
      backend.record(ended(n));
    }
    ASSERT_TRUE(backend.wait_until_idle(30s)) << backend.last_error();
    ASSERT_TRUE(cluster_->stop());
    for (int n = 6; n <= 15; ++n) {
      backend.record(ended(n));
    }
    EXPECT_FALSE(backend.wait_until_idle(500ms));
  }  // the dispatcher stops during the outage
  DatabaseAccountingBackend backend(settings("postgres"), open_spool(spool_dir.path()));
  for (int n = 16; n <= 20; ++n) {
    backend.record(ended(n));
  }
  EXPECT_FALSE(backend.wait_until_idle(300ms));
  ASSERT_EQ(cluster_->restart(), "");
  ASSERT_TRUE(backend.wait_until_idle(60s)) << backend.last_error();
  auto rows = cluster_->psql("acct",
                             "SELECT count(*), count(DISTINCT call_id), min(call_id), "
                             "max(c) FROM (SELECT call_id, count(*) OVER (PARTITION BY call_id) "
                             "AS c FROM media_sessions) AS s");
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  EXPECT_EQ(rows.out, "20|20|outage-10@host|1\n");
  std::size_t left = 0;
  for (const auto& item : std::filesystem::directory_iterator(spool_dir.path())) {
    left += item.path().extension() == ".rec" ? 1U : 0U;
  }
  EXPECT_EQ(left, 0U);
}

}  // namespace
}  // namespace mpx::dispatcher
