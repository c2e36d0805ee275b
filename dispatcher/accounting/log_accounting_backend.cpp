// The log accounting back-end: one INFO line per ended session, built by accounting_log_line().
// Values come from the relay and from SIP, so anything that could break the line's layout (or
// inject a fake second record) is written as a JSON string.
#include "dispatcher/accounting/accounting.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <string_view>
#include <utility>

namespace mpx::dispatcher {
namespace {

bool needs_quoting(std::string_view value) {
  if (value.empty()) {
    return true;
  }
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '"' || c == '=' || c == '[' || c == ']' ||
        c == '\\') {
      return true;
    }
  }
  return false;
}

std::string field(std::string_view value) {
  if (!needs_quoting(value)) {
    return std::string(value);
  }
  // JSON escaping handles control bytes and quotes; invalid UTF-8 is replaced, never thrown.
  return nlohmann::json(std::string(value))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string accounting_log_line(const protocol::SessionStatistics& session) {
  const bool timed_out = session.dispatcher.has_value() && session.dispatcher->timed_out;
  std::string line = "accounting: call_id=" + field(session.call_id);
  line += " from_tag=" + field(session.from_tag);
  line += " to_tag=" + (session.to_tag ? field(*session.to_tag) : std::string("-"));
  line += " duration=" + std::to_string(session.duration);
  line += timed_out ? " timed_out=yes" : " timed_out=no";
  line += " streams=[";
  bool first = true;
  for (const auto& stream : session.streams) {
    if (!first) {
      line += ", ";
    }
    first = false;
    line += field(stream.media_type);
    line += " status=" + field(stream.status);
    line += " caller_bytes=" + std::to_string(stream.caller_bytes);
    line += " callee_bytes=" + std::to_string(stream.callee_bytes);
  }
  line += "]";
  return line;
}

LogAccountingBackend::LogAccountingBackend(std::shared_ptr<spdlog::logger> logger)
    : logger_(std::move(logger)) {}

void LogAccountingBackend::record(const protocol::SessionStatistics& session) {
  const auto& logger = logger_ ? logger_ : spdlog::default_logger();
  logger->info("{}", accounting_log_line(session));
}

}  // namespace mpx::dispatcher
