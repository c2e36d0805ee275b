// Accounting fan-out (every back-end gets each record once, a throwing back-end is logged and does
// not stop the others) and the log back-end's line.
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>

#include <stdexcept>
#include <vector>

#include "dispatcher/accounting/accounting.hpp"
#include "tests/unit/dispatcher_services/log_capture.hpp"

namespace mpx::dispatcher {
namespace {

using protocol::SessionStatistics;
using protocol::StreamStatistics;
using testing::LogCapture;

class RecordingBackend final : public AccountingBackend {
 public:
  explicit RecordingBackend(std::vector<std::string>& seen, std::string tag)
      : seen_(seen), tag_(std::move(tag)) {}
  const char* name() const override { return "recording"; }
  void record(const SessionStatistics& session) override {
    seen_.push_back(tag_ + ":" + session.call_id);
  }

 private:
  std::vector<std::string>& seen_;
  std::string tag_;
};

class ThrowingBackend final : public AccountingBackend {
 public:
  const char* name() const override { return "broken-db"; }
  void record(const SessionStatistics&) override { throw std::runtime_error("db is down"); }
};

class ThrowingNonStdBackend final : public AccountingBackend {
 public:
  const char* name() const override { return "weird"; }
  void record(const SessionStatistics&) override { throw 42; }
};

SessionStatistics answered_call() {
  SessionStatistics s;
  s.call_id = "7a9f3c2e@192.168.1.10";
  s.from_tag = "a73kszlfl";
  s.to_tag = "8d7f2a";
  s.start_time = 1760000000.51;
  s.duration = 312;
  StreamStatistics audio;
  audio.media_type = "audio";
  audio.status = "conntrack timeout";
  audio.caller_bytes = 4210560;
  audio.callee_bytes = 4207120;
  StreamStatistics video;
  video.media_type = "video";
  video.status = "closed";
  video.caller_bytes = 10;
  video.callee_bytes = 0;
  s.streams = {audio, video};
  s.dispatcher = protocol::DispatcherAnnotations{std::string("5063766441986"), true, false};
  return s;
}

TEST(Accounting, EveryBackendGetsEachRecordOnceInOrder) {
  std::vector<std::string> seen;
  Accounting accounting;
  accounting.add(std::make_unique<RecordingBackend>(seen, "a"));
  accounting.add(std::make_unique<RecordingBackend>(seen, "b"));
  accounting.add(nullptr);  // ignored
  EXPECT_EQ(accounting.backend_count(), 2U);
  accounting.record(answered_call());
  EXPECT_EQ(seen, (std::vector<std::string>{"a:7a9f3c2e@192.168.1.10", "b:7a9f3c2e@192.168.1.10"}));
}

TEST(Accounting, AThrowingBackendIsLoggedAndDoesNotAffectOthers) {
  LogCapture log;
  std::vector<std::string> seen;
  Accounting accounting;
  accounting.add(std::make_unique<ThrowingBackend>());
  accounting.add(std::make_unique<RecordingBackend>(seen, "after"));
  accounting.add(std::make_unique<ThrowingNonStdBackend>());
  accounting.add(std::make_unique<RecordingBackend>(seen, "last"));
  EXPECT_NO_THROW(accounting.record(answered_call()));
  EXPECT_EQ(seen, (std::vector<std::string>{"after:7a9f3c2e@192.168.1.10",
                                            "last:7a9f3c2e@192.168.1.10"}));
  EXPECT_TRUE(log.contains(
      "error accounting back-end 'broken-db' failed for call_id 7a9f3c2e@192.168.1.10: db is down"))
      << log.text();
  EXPECT_TRUE(log.contains("error accounting back-end 'weird' failed")) << log.text();
}

TEST(AccountingLogLine, ListsCallTagsDurationTimeoutAndStreams) {
  EXPECT_EQ(accounting_log_line(answered_call()),
            "accounting: call_id=7a9f3c2e@192.168.1.10 from_tag=a73kszlfl to_tag=8d7f2a "
            "duration=312 timed_out=yes streams=[audio status=\"conntrack timeout\" "
            "caller_bytes=4210560 callee_bytes=4207120, video status=closed caller_bytes=10 "
            "callee_bytes=0]");
}

TEST(AccountingLogLine, MissingToTagAndAnnotationsAndNoStreams) {
  SessionStatistics s;
  s.call_id = "c1";
  s.from_tag = "f1";
  EXPECT_EQ(accounting_log_line(s),
            "accounting: call_id=c1 from_tag=f1 to_tag=- duration=0 timed_out=no streams=[]");
}

TEST(AccountingLogLine, HostileValuesCannotForgeFields) {
  SessionStatistics s;
  s.call_id = "x\naccounting: call_id=forged";
  s.from_tag = "";
  s.to_tag = "a=b";
  const auto line = accounting_log_line(s);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line,
            "accounting: call_id=\"x\\naccounting: call_id=forged\" from_tag=\"\" to_tag=\"a=b\" "
            "duration=0 timed_out=no streams=[]");
}

TEST(LogAccountingBackend, WritesOneInfoLinePerSession) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  sink->set_pattern("%l|%v");
  auto logger = std::make_shared<spdlog::logger>("acct", sink);
  LogAccountingBackend backend(logger);
  EXPECT_STREQ(backend.name(), "log");
  backend.record(answered_call());
  EXPECT_EQ(out.str(), "info|" + accounting_log_line(answered_call()) + "\n");
}

TEST(LogAccountingBackend, DefaultsToTheDefaultLogger) {
  LogCapture log;
  Accounting accounting;
  accounting.add(std::make_unique<LogAccountingBackend>());
  accounting.record(answered_call());
  EXPECT_EQ(log.text(), "info " + accounting_log_line(answered_call()) + "\n");
}

}  // namespace
}  // namespace mpx::dispatcher
