// `accounting = database,radius` against real servers the test starts: a throw-away PostgreSQL
// cluster (postgres_cluster.hpp) and a throw-away FreeRADIUS (freeradius_server.hpp), both
// back-ends behind the dispatcher's accounting fan-out, each with its own spool directory under
// <runtime dir>/accounting-spool as the dispatcher lays them out. Calls end while both are up,
// while PostgreSQL is down, and while FreeRADIUS is down with a dispatcher restart (both back-ends
// destroyed and built again on the same spools) in the middle of that outage; after each server
// comes back, every record is in the table once and in FreeRADIUS's detail file once, and both
// spools are empty.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "dispatcher/accounting/accounting.hpp"
#include "dispatcher/accounting/accounting_spool.hpp"
#include "dispatcher/accounting/database_backend.hpp"
#include "dispatcher/accounting/radius_backend.hpp"
#include "tests/integration/accounting/freeradius_server.hpp"
#include "tests/integration/accounting/postgres_cluster.hpp"
#include "tests/support/privileged.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher {
namespace {

using namespace std::chrono_literals;
using accounting_test::kBin;

protocol::SessionStatistics ended_call(int n) {
  protocol::SessionStatistics s;
  s.call_id = "both-" + std::to_string(n) + "@host";
  s.from_tag = "ft-" + std::to_string(n);
  s.to_tag = n % 4 == 0 ? std::nullopt : std::optional<std::string>("tt-" + std::to_string(n));
  s.start_time = 1700000000.0 + n;
  s.duration = n;
  s.streams.push_back(protocol::StreamStatistics{});
  s.streams[0].media_type = "audio";
  s.streams[0].status = "closed";
  s.streams[0].caller_codec = "PCMA";
  s.streams[0].caller_local = "192.0.2.10:40000";
  s.streams[0].callee_local = "192.0.2.10:40002";
  s.dispatcher = protocol::DispatcherAnnotations{std::string("d"), false, std::nullopt};
  return s;
}

std::size_t spool_files(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& item : std::filesystem::directory_iterator(dir)) {
    n += item.path().extension() == ".rec" ? 1U : 0U;
  }
  return n;
}

// The dispatcher's accounting as main.cpp builds it for `accounting = database,radius`.
struct DispatcherAccounting {
  Accounting accounting;
  DatabaseAccountingBackend* database = nullptr;
  RadiusAccountingBackend* radius = nullptr;

  DispatcherAccounting(const DatabaseBackendSettings& database_settings,
                       const RadiusBackendSettings& radius_settings,
                       const std::filesystem::path& runtime_dir) {
    config::DispatcherConfig dispatcher;  // accounting_spool_dir = accounting-spool
    auto database_spool =
        AccountingSpool::open(accounting_spool_settings(dispatcher, runtime_dir, "database"));
    auto radius_spool =
        AccountingSpool::open(accounting_spool_settings(dispatcher, runtime_dir, "radius"));
    EXPECT_TRUE(database_spool.has_value() && radius_spool.has_value());
    auto client = RadiusClient::open(radius_settings.client);
    EXPECT_TRUE(client.has_value()) << client.error().message;
    auto db = std::make_unique<DatabaseAccountingBackend>(database_settings,
                                                          std::move(database_spool).value());
    auto rad = std::make_unique<RadiusAccountingBackend>(
        std::move(client).value(), radius_settings, std::move(radius_spool).value());
    database = db.get();
    radius = rad.get();
    accounting.add(std::move(db));
    accounting.add(std::move(rad));
  }
  void end_calls(int from, int to) {
    for (int n = from; n <= to; ++n) {
      accounting.record(ended_call(n));
    }
  }
};

TEST(AccountingBothBackends, EveryRecordArrivesOnceInEachThroughOutagesAndARestart) {
  MPX_REQUIRE(test::missing_root());
  MPX_REQUIRE(test::missing_path(kBin + "initdb", "PostgreSQL 15 (Debian package postgresql)"));
  MPX_REQUIRE(test::missing_tool("runuser"));
  MPX_REQUIRE(test::missing_tool("freeradius"));

  accounting_test::PostgresCluster postgres;
  ASSERT_EQ(postgres.start(), "");
  ASSERT_EQ(postgres.psql("postgres", "CREATE DATABASE acct").exit_code, 0);
  config::DatabaseConfig database;
  database.dburi = postgres.uri("postgres", "acct");
  auto database_settings = database_backend_settings(database, "/nonexistent").value();
  database_settings.retry_initial = 20ms;
  database_settings.retry_max = 200ms;

  test::TempDir dir("mpx-acct-both");
  const auto port = accounting_test::free_udp_port();
  ASSERT_NE(port, 0);
  accounting_test::write_raddb(dir, port);
  const auto radius_settings = accounting_test::write_client(dir, port);
  accounting_test::FreeradiusServer radius(dir);
  ASSERT_EQ(radius.start(), "");
  const auto runtime_dir = dir.path() / "run";
  const auto database_spool = runtime_dir / "accounting-spool" / "database";
  const auto radius_spool = runtime_dir / "accounting-spool" / "radius";

  auto dispatcher =
      std::make_unique<DispatcherAccounting>(database_settings, radius_settings, runtime_dir);
  // Both up.
  dispatcher->end_calls(1, 5);
  ASSERT_TRUE(dispatcher->database->wait_until_idle(30s)) << dispatcher->database->last_error();
  ASSERT_TRUE(dispatcher->radius->wait_until_idle(30s)) << dispatcher->radius->last_error();

  // PostgreSQL down while calls end: RADIUS carries on, the database's records wait on disk.
  ASSERT_TRUE(postgres.stop());
  dispatcher->end_calls(6, 10);
  ASSERT_TRUE(dispatcher->radius->wait_until_idle(30s)) << dispatcher->radius->last_error();
  EXPECT_FALSE(dispatcher->database->wait_until_idle(500ms));
  EXPECT_NE(dispatcher->database->last_error(), "");
  ASSERT_EQ(postgres.restart(), "");
  ASSERT_TRUE(dispatcher->database->wait_until_idle(60s)) << dispatcher->database->last_error();

  // FreeRADIUS down while calls end, and the dispatcher restarts in the middle of the outage.
  radius.stop();
  dispatcher->end_calls(11, 15);
  ASSERT_TRUE(dispatcher->database->wait_until_idle(30s)) << dispatcher->database->last_error();
  EXPECT_FALSE(dispatcher->radius->wait_until_idle(1500ms));
  dispatcher.reset();
  EXPECT_EQ(spool_files(radius_spool), 5U) << "records 11-15 wait on disk for the next start";
  EXPECT_EQ(spool_files(database_spool), 0U);
  dispatcher =
      std::make_unique<DispatcherAccounting>(database_settings, radius_settings, runtime_dir);
  dispatcher->end_calls(16, 18);
  ASSERT_TRUE(dispatcher->database->wait_until_idle(30s)) << dispatcher->database->last_error();
  ASSERT_EQ(radius.start(), "");
  ASSERT_TRUE(dispatcher->radius->wait_until_idle(60s)) << dispatcher->radius->last_error();
  EXPECT_EQ(dispatcher->radius->counters().sent, 8U);  // 11-15 from the spool, then 16-18
  dispatcher.reset();

  // Every record exactly once in each.
  auto rows = postgres.psql("acct", "SELECT count(*), count(DISTINCT (call_id, from_tag)) "
                                    "FROM media_sessions");
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  EXPECT_EQ(rows.out, "18|18\n");
  std::map<std::string, int> sent;
  for (const auto& record :
       accounting_test::detail_records(accounting_test::read_file(dir.path() / "detail"))) {
    ++sent[record.at("Acct-Session-Id") + " " + record.at("Sip-From-Tag")];
  }
  std::map<std::string, int> expected;
  for (int n = 1; n <= 18; ++n) {
    expected["both-" + std::to_string(n) + "@host ft-" + std::to_string(n)] = 1;
  }
  EXPECT_EQ(sent, expected);
  EXPECT_EQ(spool_files(database_spool), 0U);
  EXPECT_EQ(spool_files(radius_spool), 0U);
  radius.stop();
}

}  // namespace
}  // namespace mpx::dispatcher
