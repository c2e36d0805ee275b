// mpxctl commands (see commands.hpp). `top` stops on SIGINT/SIGTERM through a flag polled between
// short sleeps, so Ctrl-C ends it with status 0 and a final newline instead of a half screen.
#include "tools/mpxctl/commands.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <string>
#include <thread>

#include "tools/mpxctl/management_client.hpp"
#include "tools/mpxctl/views.hpp"

namespace mpx::mpxctl {
namespace {

using nlohmann::json;

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int /*signal*/) { g_interrupted = 1; }

// The answer to `command` and its parsed JSON array.
struct Answer {
  std::string raw;
  json value;
};

Result<Answer> ask(ManagementClient& client, const char* command) {
  auto line = client.command(command);
  if (!line) {
    return line.error();
  }
  Answer answer{std::move(line).value(), json()};
  if (answer.raw == "error") {
    return Error{fmt::format("the dispatcher at {} answered 'error' to '{}'", client.peer(),
                             command)};
  }
  try {
    answer.value = json::parse(answer.raw);
  } catch (const json::parse_error& e) {
    return Error{fmt::format("malformed JSON in the answer to '{}' from {}: {}", command,
                             client.peer(), e.what())};
  }
  if (!answer.value.is_array()) {
    return Error{fmt::format("malformed answer to '{}' from {}: expected a JSON array, got {}",
                             command, client.peer(), answer.value.type_name())};
  }
  return answer;
}

int fail(std::ostream& err, const Error& error) {
  err << "mpxctl: " << error.message << "\n";
  return 1;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  const std::size_t size = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return std::string(text, size);
}

// Sleeps `period`, returning early (false) on an interrupt.
bool pause(std::chrono::milliseconds period) {
  const auto deadline = std::chrono::steady_clock::now() + period;
  while (g_interrupted == 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return true;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(50)));
  }
  return false;
}

int run_top(const Options& options, ManagementClient& client, std::ostream& out,
            std::ostream& err) {
  g_interrupted = 0;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const double seconds = static_cast<double>(options.interval.count()) / 1000;
  for (std::uint64_t shown = 0; !options.iterations || shown < *options.iterations; ++shown) {
    if (shown != 0 && !pause(options.interval)) {
      break;
    }
    auto relays = ask(client, "summary");
    if (!relays) {
      return fail(err, relays.error());
    }
    auto sessions = ask(client, "sessions");
    if (!sessions) {
      return fail(err, sessions.error());
    }
    const std::string title = fmt::format("mpxctl top: {}  {}  every {:g}s, Ctrl-C to quit",
                                          client.peer(), utc_now(), seconds);
    // Home, clear the screen: the whole screen is redrawn each time.
    out << "\x1b[H\x1b[2J" << render_top(title, relays.value().value, sessions.value().value)
        << std::flush;
  }
  if (g_interrupted != 0) {
    out << "\n" << std::flush;
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return 0;
}

}  // namespace

int run_command(const Options& options, std::ostream& out, std::ostream& err) {
  auto client = ManagementClient::connect(options.client);
  if (!client) {
    return fail(err, client.error());
  }
  if (options.command == Command::top) {
    return run_top(options, *client.value(), out, err);
  }
  const char* command = options.command == Command::sessions ? "sessions" : "summary";
  auto answer = ask(*client.value(), command);
  if (!answer) {
    return fail(err, answer.error());
  }
  if (options.json) {
    out << answer.value().raw << "\n";
  } else if (options.command == Command::sessions) {
    out << render_sessions(answer.value().value);
  } else {
    out << render_summary(answer.value().value);
  }
  out << std::flush;
  return out ? 0 : 1;
}

}  // namespace mpx::mpxctl
