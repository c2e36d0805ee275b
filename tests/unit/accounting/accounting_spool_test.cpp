// The durable accounting spool on its own: records come back in order after a re-open, removed
// ones do not, the bound refuses (logged with the JSON, counted) with one warning at 80 %, files a
// crash or a damaged disk left behind are skipped and logged without crashing, the per-back-end
// directory comes from [Dispatcher], and what one durable append costs.
#include "dispatcher/accounting/accounting_spool.hpp"

#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher {
namespace {

// Captures the default logger's lines ("level|message") for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l|%v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::string text() const { return out_.str(); }
  std::size_t count(const std::string& needle) const {
    const auto all = text();
    std::size_t n = 0;
    for (auto at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

AccountingRow row(int n, std::optional<std::string> to_tag = "tt") {
  return AccountingRow{"call-" + std::to_string(n) + "@host", "ft-" + std::to_string(n),
                       std::move(to_tag),
                       R"({"call_id":"call-)" + std::to_string(n) + R"(@host","duration":)" +
                           std::to_string(n) + "}"};
}

std::unique_ptr<AccountingSpool> open_spool(const std::filesystem::path& dir,
                                            std::size_t max_records = 100) {
  auto spool = AccountingSpool::open(AccountingSpoolSettings{dir, max_records});
  EXPECT_TRUE(spool.has_value()) << spool.error().message;
  return std::move(spool).value();
}

TEST(AccountingSpool, RecordTextRoundTripsIncludingAMissingToTag) {
  for (const auto& original : {row(1), row(2, std::nullopt)}) {
    const auto parsed = parse_spool_record(spool_record_text(original));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->call_id, original.call_id);
    EXPECT_EQ(parsed->from_tag, original.from_tag);
    EXPECT_EQ(parsed->to_tag, original.to_tag);
    EXPECT_EQ(parsed->info, original.info);
  }
  EXPECT_FALSE(parse_spool_record("").has_value());
  EXPECT_FALSE(parse_spool_record(R"({"call_id":"x","from_tag":"y","to_tag":null)").has_value());
  EXPECT_FALSE(parse_spool_record(R"({"call_id":"x","from_tag":"y","to_tag":1,"info":"{}"})")
                   .has_value());
  EXPECT_FALSE(parse_spool_record("[1,2]").has_value());
}

TEST(AccountingSpool, RecordsSurviveReopenInOrderAndRemovedOnesDoNot) {
  test::TempDir dir("mpx-spool");
  const auto path = dir.path() / "spool" / "database";
  std::vector<std::uint64_t> sequences;
  {
    auto spool = open_spool(path);
    EXPECT_TRUE(spool->take_pending().empty());
    for (int i = 1; i <= 12; ++i) {  // more than 9, so order is not a lucky string sort
      auto appended = spool->append(row(i));
      ASSERT_TRUE(appended.has_value()) << appended.error().message;
      sequences.push_back(appended.value());
    }
    ASSERT_TRUE(spool->remove(sequences[0]).has_value());
    ASSERT_TRUE(spool->remove(sequences[5]).has_value());
    EXPECT_TRUE(spool->remove(sequences[5]).has_value());  // twice is harmless
    EXPECT_EQ(spool->size(), 10U);
  }
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  auto spool = open_spool(path);
  EXPECT_EQ(spool->size(), 10U);
  const auto pending = spool->take_pending();
  ASSERT_EQ(pending.size(), 10U);
  std::vector<std::string> call_ids;
  for (const auto& entry : pending) {
    call_ids.push_back(entry.row.call_id);
  }
  std::vector<std::string> expected;
  for (int i = 1; i <= 12; ++i) {
    if (i != 1 && i != 6) {
      expected.push_back("call-" + std::to_string(i) + "@host");
    }
  }
  EXPECT_EQ(call_ids, expected);
  EXPECT_EQ(pending.front().row.info, row(2).info);
  // New records come after the old ones, never reusing a sequence number.
  auto appended = spool->append(row(13));
  ASSERT_TRUE(appended.has_value());
  EXPECT_GT(appended.value(), sequences.back());
}

TEST(AccountingSpool, BoundWarnsOnceAt80PercentAndRefusesWhenFull) {
  test::TempDir dir("mpx-spool");
  CapturedLog log;
  auto spool = open_spool(dir.path() / "db", 10);
  for (int i = 1; i <= 7; ++i) {
    ASSERT_TRUE(spool->append(row(i)).has_value());
  }
  EXPECT_EQ(log.count("80 % full"), 0U);
  ASSERT_TRUE(spool->append(row(8)).has_value());
  EXPECT_EQ(log.count("warning|"), 1U) << log.text();
  EXPECT_EQ(log.count("80 % full"), 1U);
  ASSERT_TRUE(spool->append(row(9)).has_value());
  ASSERT_TRUE(spool->append(row(10)).has_value());
  EXPECT_EQ(log.count("80 % full"), 1U);  // once, not per record

  auto refused = spool->append(row(11));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message, kAccountingSpoolFull);
  EXPECT_EQ(spool->counters().refused, 1U);
  EXPECT_EQ(spool->size(), 10U);
  EXPECT_NE(log.text().find("error|"), std::string::npos);
  EXPECT_NE(log.text().find(row(11).info), std::string::npos) << "the refused JSON is logged";

  // Room again after a delivery; falling under 80 % re-arms the warning.
  for (std::uint64_t sequence = 1; sequence <= 3; ++sequence) {
    ASSERT_TRUE(spool->remove(sequence).has_value());
  }
  ASSERT_TRUE(spool->append(row(12)).has_value());
  EXPECT_EQ(log.count("80 % full"), 2U);
  auto reopened = open_spool(dir.path() / "db", 10);
  EXPECT_EQ(reopened->size(), 8U);
}

TEST(AccountingSpool, CrashLeftoversAndDamagedFilesAreSkippedAndLogged) {
  test::TempDir dir("mpx-spool");
  const auto path = dir.path() / "db";
  {
    auto spool = open_spool(path);
    ASSERT_TRUE(spool->append(row(1)).has_value());
    ASSERT_TRUE(spool->append(row(2)).has_value());
    ASSERT_TRUE(spool->append(row(3)).has_value());
  }
  // A write interrupted before its rename, a record truncated by a damaged disk, an empty one,
  // binary garbage, and a file that is no record at all.
  const auto second = path / "00000000000000000002.rec";
  std::string whole;
  {
    std::ifstream in(second);
    std::getline(in, whole);
  }
  std::ofstream(path / "00000000000000000004.rec.tmp") << whole.substr(0, 10);
  std::ofstream(second, std::ios::trunc) << whole.substr(0, whole.size() / 2);
  std::ofstream(path / "00000000000000000005.rec", std::ios::trunc);
  std::ofstream(path / "00000000000000000006.rec", std::ios::binary) << std::string("\0\xff\x01", 3);
  std::ofstream(path / "README") << "not a record";

  CapturedLog log;
  auto spool = open_spool(path);
  const auto pending = spool->take_pending();
  ASSERT_EQ(pending.size(), 2U);
  EXPECT_EQ(pending[0].row.call_id, "call-1@host");
  EXPECT_EQ(pending[1].row.call_id, "call-3@host");
  EXPECT_EQ(spool->counters().corrupt, 3U);
  EXPECT_EQ(log.count("not a readable record"), 3U) << log.text();
  EXPECT_FALSE(std::filesystem::exists(path / "00000000000000000004.rec.tmp"));
  EXPECT_TRUE(std::filesystem::exists(path / "00000000000000000002.rec.corrupt"));
  EXPECT_FALSE(std::filesystem::exists(second));
  // Sequence numbers continue past the damaged ones, so nothing overwrites the kept evidence.
  auto appended = spool->append(row(7));
  ASSERT_TRUE(appended.has_value());
  EXPECT_EQ(appended.value(), 7U);
}

TEST(AccountingSpool, UnusableDirectoryIsAnErrorNotACrash) {
  test::TempDir dir("mpx-spool");
  const auto file = dir.write("plain-file", "x");
  auto spool = AccountingSpool::open(AccountingSpoolSettings{file / "db", 10});
  ASSERT_FALSE(spool.has_value());
  EXPECT_NE(spool.error().message.find("accounting spool"), std::string::npos);
}

TEST(AccountingSpool, DirectoryPerBackendFromTheDispatcherOptions) {
  config::DispatcherConfig dispatcher;
  auto settings = accounting_spool_settings(dispatcher, "/run/mpx", "database");
  EXPECT_EQ(settings.directory, std::filesystem::path("/run/mpx/accounting-spool/database"));
  EXPECT_EQ(settings.max_records, 100000U);
  EXPECT_FALSE(settings.durable_removal);  // the database's key makes a replay harmless
  dispatcher.accounting_spool_dir = "/var/spool/mpx";
  dispatcher.accounting_spool_max_records = 7;
  settings = accounting_spool_settings(dispatcher, "/run/mpx", "radius");
  EXPECT_EQ(settings.directory, std::filesystem::path("/var/spool/mpx/radius"));
  EXPECT_EQ(settings.max_records, 7U);
  EXPECT_TRUE(settings.durable_removal);  // RADIUS has no idempotent key: no resurrected files
}

// Not a pass/fail threshold (disks differ): reports what a durable append costs here.
TEST(AccountingSpool, CostOfOneDurableAppend) {
  test::TempDir dir("mpx-spool");
  auto spool = open_spool(dir.path() / "db", 1000);
  AccountingRow big = row(1);
  big.info.append(1500, 'x');  // about the size of a two-stream statistics record
  constexpr int kRecords = 200;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(spool->append(big).has_value());
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  std::printf("durable append: %lld us per record (%d records)\n",
              static_cast<long long>(micros / kRecords), kRecords);
  RecordProperty("append_us", std::to_string(micros / kRecords));
  EXPECT_EQ(spool->size(), static_cast<std::size_t>(kRecords));
}

}  // namespace
}  // namespace mpx::dispatcher
