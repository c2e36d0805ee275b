// The shared delivery worker with a scripted target (no server): the event loop's enqueue never
// waits for the spool's disk writes (a spool whose append blocks until the test releases it); an
// outage delivers every record exactly once when the target returns, with one warning when it
// fails and one when it recovers however many retries there were; a restart during an outage
// delivers the spooled records once; a record the target refuses is dropped and its file deleted;
// and the database back-end, through the accounting fan-out, returns while its spool is stuck.
#include "dispatcher/accounting/delivery_worker.hpp"

#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "dispatcher/accounting/accounting.hpp"
#include "dispatcher/accounting/database_backend.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher {
namespace {

using namespace std::chrono_literals;

AccountingRow row(int n) {
  return AccountingRow{"call-" + std::to_string(n), "ft-" + std::to_string(n),
                       std::string("tt-" + std::to_string(n)), "{\"n\":" + std::to_string(n) + "}"};
}

// A target the test switches on and off; counts what it received per call_id.
class ScriptedTarget {
 public:
  std::atomic<bool> up{true};
  std::atomic<int> attempts{0};
  std::string refuse_call_id;

  std::map<std::string, int> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  void add(const std::string& call_id) {
    std::lock_guard lock(mutex_);
    ++received_[call_id];
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int> received_;
};

class ScriptedDelivery final : public RecordDelivery {
 public:
  explicit ScriptedDelivery(ScriptedTarget& target) : target_(target) {}
  DeliveryResult deliver(const AccountingRow& r) override {
    ++target_.attempts;
    if (!target_.up) {
      return {DeliveryOutcome::retry, "connection refused"};
    }
    if (r.call_id == target_.refuse_call_id) {
      return {DeliveryOutcome::rejected, "value too long"};
    }
    target_.add(r.call_id);
    return {};
  }
  std::string target() const override { return "scripted://target"; }

 private:
  ScriptedTarget& target_;
};

// A real spool whose append() blocks until released: a disk that is stuck.
class BlockingSpool final : public RecordSpool {
 public:
  explicit BlockingSpool(std::unique_ptr<AccountingSpool> inner) : inner_(std::move(inner)) {}

  Result<std::uint64_t> append(const AccountingRow& r) override {
    std::unique_lock lock(mutex_);
    entered_ = true;
    append_thread_ = std::this_thread::get_id();
    changed_.notify_all();
    // A guard, not a timing assertion: a caller that appended on its own thread would wait here
    // for a release that never comes; the test then sees released_in_time() false.
    released_in_time_ = changed_.wait_for(lock, 60s, [this] { return released_; });
    lock.unlock();
    return inner_->append(r);
  }
  Result<void> remove(std::uint64_t sequence) override { return inner_->remove(sequence); }
  std::vector<SpooledRecord> take_pending() override { return inner_->take_pending(); }
  std::string location() const override { return inner_->location(); }

  bool wait_entered() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 60s, [this] { return entered_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  bool released_in_time() const {
    std::lock_guard lock(mutex_);
    return released_in_time_;
  }
  std::thread::id append_thread() const {
    std::lock_guard lock(mutex_);
    return append_thread_;
  }

 private:
  std::unique_ptr<AccountingSpool> inner_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool entered_ = false;
  bool released_ = false;
  bool released_in_time_ = false;
  std::thread::id append_thread_;
};

std::unique_ptr<AccountingSpool> open_spool(const std::filesystem::path& dir) {
  auto opened = AccountingSpool::open(AccountingSpoolSettings{dir, 1000});
  EXPECT_TRUE(opened.has_value()) << opened.error().message;
  return std::move(opened).value();
}

std::size_t spool_files(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& item : std::filesystem::directory_iterator(dir)) {
    n += item.path().extension() == ".rec" ? 1U : 0U;
  }
  return n;
}

DeliveryWorkerSettings fast(const std::string& name) {
  return DeliveryWorkerSettings{name, 1000, 5ms, 20ms};
}

// Captures the default logger's lines for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::size_t count(const std::string& needle) const {
    const auto all = text_.str();
    std::size_t n = 0;
    for (auto at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(AccountingDeliveryWorker, EnqueueReturnsWhileTheSpoolWriterIsBlocked) {
  test::TempDir dir("mpx-delivery");
  ScriptedTarget target;
  auto spool = std::make_unique<BlockingSpool>(open_spool(dir.path() / "spool"));
  auto* blocking = spool.get();
  DeliveryWorker worker(fast("test"), std::make_unique<ScriptedDelivery>(target), std::move(spool));

  worker.enqueue(row(1));  // the disk is stuck: this must return anyway
  ASSERT_TRUE(blocking->wait_entered());
  EXPECT_NE(blocking->append_thread(), std::this_thread::get_id());
  EXPECT_EQ(worker.backlog(), 0U) << "the writer holds the record";
  EXPECT_FALSE(worker.wait_until_idle(0ms));
  EXPECT_TRUE(target.received().empty()) << "nothing is delivered before it is on disk";
  worker.enqueue(row(2));  // and again, with the writer still stuck
  EXPECT_EQ(worker.backlog(), 1U);

  blocking->release();
  ASSERT_TRUE(worker.wait_until_idle(20s)) << worker.last_error();
  EXPECT_TRUE(blocking->released_in_time()) << "append ran on the caller's thread";
  EXPECT_EQ(target.received(), (std::map<std::string, int>{{"call-1", 1}, {"call-2", 1}}));
  EXPECT_EQ(spool_files(dir.path() / "spool"), 0U);
}

TEST(AccountingDeliveryWorker, OutageDeliversEachRecordOnceAndLogsFailureAndRecoveryOnce) {
  CapturedLog log;
  test::TempDir dir("mpx-delivery");
  ScriptedTarget target;
  target.up = false;
  DeliveryWorker worker(fast("test"), std::make_unique<ScriptedDelivery>(target),
                        open_spool(dir.path() / "spool"));
  for (int n = 1; n <= 10; ++n) {
    worker.enqueue(row(n));
  }
  while (target.attempts < 5) {  // several retries of the front record
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_FALSE(worker.wait_until_idle(0ms));
  EXPECT_EQ(worker.last_error(), "connection refused");
  target.up = true;
  ASSERT_TRUE(worker.wait_until_idle(20s));
  std::map<std::string, int> expected;
  for (int n = 1; n <= 10; ++n) {
    expected["call-" + std::to_string(n)] = 1;
  }
  EXPECT_EQ(target.received(), expected);
  EXPECT_EQ(worker.counters().delivered, 10U);
  EXPECT_EQ(worker.last_error(), "");
  EXPECT_EQ(spool_files(dir.path() / "spool"), 0U);
  EXPECT_EQ(log.count("is not taking records"), 1U) << log.text();
  EXPECT_EQ(log.count("takes records again"), 1U) << log.text();
}

TEST(AccountingDeliveryWorker, RestartDuringAnOutageDeliversTheSpooledRecordsOnce) {
  test::TempDir dir("mpx-delivery");
  ScriptedTarget target;
  target.up = false;
  {
    DeliveryWorker worker(fast("test"), std::make_unique<ScriptedDelivery>(target),
                          open_spool(dir.path() / "spool"));
    for (int n = 1; n <= 5; ++n) {
      worker.enqueue(row(n));
    }
  }  // stopped while the target is down: the destructor spools the inbox
  EXPECT_EQ(spool_files(dir.path() / "spool"), 5U);
  EXPECT_TRUE(target.received().empty());

  target.up = true;
  DeliveryWorker worker(fast("test"), std::make_unique<ScriptedDelivery>(target),
                        open_spool(dir.path() / "spool"));
  worker.enqueue(row(6));
  ASSERT_TRUE(worker.wait_until_idle(20s));
  EXPECT_EQ(target.received(),
            (std::map<std::string, int>{{"call-1", 1}, {"call-2", 1}, {"call-3", 1},
                                        {"call-4", 1}, {"call-5", 1}, {"call-6", 1}}));
  EXPECT_EQ(spool_files(dir.path() / "spool"), 0U);
}

TEST(AccountingDeliveryWorker, RefusedRecordIsDroppedAndItsFileDeleted) {
  test::TempDir dir("mpx-delivery");
  ScriptedTarget target;
  target.refuse_call_id = "call-2";
  std::vector<std::string> confirmed;
  DeliveryWorker worker(fast("test"), std::make_unique<ScriptedDelivery>(target),
                        open_spool(dir.path() / "spool"),
                        [&confirmed](const AccountingRow& r) { confirmed.push_back(r.call_id); });
  for (int n = 1; n <= 3; ++n) {
    worker.enqueue(row(n));
  }
  ASSERT_TRUE(worker.wait_until_idle(20s));
  EXPECT_EQ(worker.counters().delivered, 2U);
  EXPECT_EQ(worker.counters().dropped, 1U);
  EXPECT_EQ(confirmed, (std::vector<std::string>{"call-1", "call-3"}));
  EXPECT_EQ(spool_files(dir.path() / "spool"), 0U);
}

TEST(AccountingDeliveryWorker, WithoutSpoolMemoryQueueIsBounded) {
  ScriptedTarget target;
  target.up = false;
  DeliveryWorker worker(DeliveryWorkerSettings{"test", 3, 5ms, 20ms},
                        std::make_unique<ScriptedDelivery>(target), nullptr);
  for (int n = 1; n <= 5; ++n) {
    worker.enqueue(row(n));
  }
  EXPECT_EQ(worker.counters().dropped, 2U);
  target.up = true;
  ASSERT_TRUE(worker.wait_until_idle(20s));
  EXPECT_EQ(target.received(),
            (std::map<std::string, int>{{"call-1", 1}, {"call-2", 1}, {"call-3", 1}}));
}

TEST(AccountingBackoff, DoublesUpToTheCapAndResets) {
  CappedBackoff backoff(100ms, 350ms);
  EXPECT_EQ(backoff.next(), 100ms);
  EXPECT_EQ(backoff.next(), 200ms);
  EXPECT_EQ(backoff.next(), 350ms);
  EXPECT_EQ(backoff.next(), 350ms);
  backoff.reset();
  EXPECT_EQ(backoff.next(), 100ms);
}

// The dispatcher's accounting hook with the database back-end on SQLite: the hook returns while
// the spool's disk is stuck, and the record is stored once the disk moves again.
TEST(DatabaseAccountingHook, ReturnsWhileTheSpoolIsStuck) {
  test::TempDir dir("mpx-delivery");
  config::DatabaseConfig database;
  database.dburi = "sqlite://" + (dir.path() / "acct.db").string();
  auto settings = database_backend_settings(database, dir.path()).value();
  auto spool = std::make_unique<BlockingSpool>(open_spool(dir.path() / "spool" / "database"));
  auto* blocking = spool.get();
  auto backend = std::make_unique<DatabaseAccountingBackend>(settings, std::move(spool));
  auto* db = backend.get();
  Accounting accounting;
  accounting.add(std::move(backend));

  protocol::SessionStatistics session;
  session.call_id = "hook-call@host";
  session.from_tag = "ft";
  session.to_tag = "tt";
  session.start_time = 1700000000.0;
  accounting.record(session);  // the proxy's answer is written right after this returns
  ASSERT_TRUE(blocking->wait_entered());
  EXPECT_NE(blocking->append_thread(), std::this_thread::get_id());
  EXPECT_EQ(db->counters().inserted, 0U);

  blocking->release();
  ASSERT_TRUE(db->wait_until_idle(20s)) << db->last_error();
  EXPECT_TRUE(blocking->released_in_time()) << "append ran on the hook's thread";
  EXPECT_EQ(db->counters().inserted, 1U);
  auto stored = test::run({"sqlite3", (dir.path() / "acct.db").string(),
                           "SELECT call_id FROM media_sessions"});
  EXPECT_EQ(stored.out, "hook-call@host\n");
}

}  // namespace
}  // namespace mpx::dispatcher
