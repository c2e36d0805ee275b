// LogCapture: for the dispatcher services' tests, replaces spdlog's default logger with one that
// keeps "<level> <message>" lines in memory (readable while another thread logs), and puts the old
// logger back on scope exit.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <string>

namespace mpx::dispatcher::testing {

class MemorySink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    text_.append(formatted.data(), formatted.size());
  }
  void flush_() override {}

 private:
  std::string text_;
};

class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()), sink_(std::make_shared<MemorySink>()) {
    sink_->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const { return sink_->text(); }
  bool contains(const std::string& needle) const { return text().find(needle) != std::string::npos; }
  // True when no line at warning level or above was logged.
  bool quiet() const {
    const auto all = "\n" + text();
    return all.find("\nwarning ") == std::string::npos && all.find("\nerror ") == std::string::npos &&
           all.find("\ncritical ") == std::string::npos;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<MemorySink> sink_;
};

}  // namespace mpx::dispatcher::testing
