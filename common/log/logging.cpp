// Logging set-up and the debug toggle (see logging.hpp).
#include "common/log/logging.hpp"

#include <spdlog/sinks/ansicolor_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <syslog.h>

#include <atomic>
#include <memory>

namespace mpx::log {
namespace {

std::atomic<spdlog::level::level_enum> g_configured{spdlog::level::info};

// sd-daemon(3) convention: a "<priority>" prefix on stderr lines is understood by journald.
class SystemdStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    static constexpr int kPriority[] = {LOG_DEBUG, LOG_DEBUG, LOG_INFO, LOG_WARNING,
                                        LOG_ERR,   LOG_CRIT,  LOG_INFO};
    const int priority = kPriority[static_cast<int>(msg.level)];
    fmt::print(stderr, "<{}>{}\n", priority,
               std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

void init(const Setup& setup) {
  std::shared_ptr<spdlog::logger> logger;
  switch (setup.sink) {
    case Sink::kConsole: {
      auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
      logger = std::make_shared<spdlog::logger>(setup.ident, sink);
      logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-7l%$ [%n] %v");
      break;
    }
    case Sink::kSystemd:
      logger = std::make_shared<spdlog::logger>(setup.ident, std::make_shared<SystemdStderrSink>());
      break;
    case Sink::kSyslog:
      logger = std::make_shared<spdlog::logger>(
          setup.ident, std::make_shared<spdlog::sinks::syslog_sink_mt>(setup.ident, LOG_PID,
                                                                       LOG_DAEMON, true));
      logger->set_pattern("%v");
      break;
  }
  g_configured = setup.level;
  logger->set_level(setup.level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

void set_configured_level(spdlog::level::level_enum level) {
  g_configured = level;
  spdlog::set_level(level);
}

spdlog::level::level_enum toggle_debug() {
  // With DEBUG configured, the toggle's other state is INFO, so SIGUSR1 always changes something.
  const auto configured = g_configured.load();
  const auto quiet = configured == spdlog::level::debug ? spdlog::level::info : configured;
  const auto next = spdlog::get_level() == spdlog::level::debug ? quiet : spdlog::level::debug;
  spdlog::set_level(next);
  return next;
}

}  // namespace mpx::log
