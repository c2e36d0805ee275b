// DispatcherHarness and ModuleClient (see dispatcher_harness.hpp).
#include "tests/integration/dispatcher/dispatcher_harness.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>

#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/support/subprocess.hpp"
#include "tests/support/test_pki.hpp"

namespace mpx::dispatcher::testing {

using namespace std::chrono_literals;

void RecordingTerminator::end_dialog(const std::string& dialog_id, const std::string& call_id) {
  std::lock_guard lock(mutex_);
  calls_.emplace_back(dialog_id, call_id);
}

std::vector<std::pair<std::string, std::string>> RecordingTerminator::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

DispatcherHarness::DispatcherHarness(const Tweak& tweak) : dir_("mpx-dispatcher-it"), io_(1) {
  config_.tls.certs_path = mpx::test::test_pki_dir();
  config_.dispatcher.listen = {boost::asio::ip::make_address_v4("127.0.0.1"), 0};
  config_.dispatcher.socket_path = dir_.path() / "run" / "dispatcher.sock";
  auto options = service_options(config_);
  options.link.summary_interval = 200ms;
  if (tweak) {
    tweak(config_, options);
  }
  service_ = std::make_unique<DispatcherService>(
      io_, config_, dir_.path() / "run",
      [this](const protocol::SessionStatistics& stats) {
        std::lock_guard lock(mutex_);
        accounted_.push_back(stats);
      },
      &terminator_, options);
  auto opened = service_->open();
  if (!opened) {
    open_error_ = opened.error().message;
    return;
  }
  relay_endpoint_ = service_->relay_endpoint();
  socket_path_ = service_->socket_path();
  service_->start();
  thread_ = std::thread([this] { io_.run(); });
}

DispatcherHarness::~DispatcherHarness() {
  if (thread_.joinable()) {
    call([this] {
      service_->stop();
      return 0;
    });
    io_.stop();
    thread_.join();
  }
  service_.reset();
}

std::size_t DispatcherHarness::relay_count() {
  return call([this] { return service_->core().relays().size(); });
}

std::size_t DispatcherHarness::session_count() {
  return call([this] { return service_->core().sessions().size(); });
}

std::optional<std::string> DispatcherHarness::pinned_relay(const std::string& call_id) {
  return call([this, call_id]() -> std::optional<std::string> {
    const auto* session = service_->core().sessions().find(call_id);
    return session ? std::optional<std::string>(session->relay_ip) : std::nullopt;
  });
}

std::vector<protocol::SessionStatistics> DispatcherHarness::accounted() const {
  std::lock_guard lock(mutex_);
  return accounted_;
}

std::string DispatcherHarness::management(bool summary) {
  std::promise<std::string> result;
  auto future = result.get_future();
  boost::asio::post(io_, [&] {
    auto& backend = service_->management_backend();
    boost::asio::co_spawn(io_, summary ? backend.summary_json() : backend.sessions_json(),
                          [&result](std::exception_ptr error, std::string text) {
                            if (error) {
                              result.set_exception(error);
                            } else {
                              result.set_value(std::move(text));
                            }
                          });
  });
  return future.get();
}

bool DispatcherHarness::eventually(const std::function<bool()>& condition,
                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

ModuleClient::ModuleClient(const std::filesystem::path& socket) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

ModuleClient::~ModuleClient() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool ModuleClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<std::string> ModuleClient::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto end = buffer_.find("\r\n");
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      return std::nullopt;
    }
    char chunk[4096];
    const auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      return std::nullopt;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::optional<std::string> ModuleClient::ask(std::string_view request,
                                             std::chrono::milliseconds timeout) {
  if (!send(request)) {
    return std::nullopt;
  }
  return read_line(timeout);
}

bool ModuleClient::wait_closed(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
    return false;
  }
  char chunk[256];
  return ::recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT) == 0;
}

std::string module_request(const std::string& command,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string text = command + "\r\n";
  for (const auto& [name, value] : headers) {
    text += name + ": " + value + "\r\n";
  }
  return text + "\r\n";
}

std::string update_request(const std::string& call_id, const std::string& media_relay,
                           const std::string& dialog_id, const std::string& type) {
  return module_request("update", {{"type", type},
                                   {"dialog_id", dialog_id},
                                   {"call_id", call_id},
                                   {"cseq", "1"},
                                   {"from_uri", "alice@example.com"},
                                   {"to_uri", "bob@example.net"},
                                   {"from_tag", "a73kszlfl"},
                                   {"to_tag", ""},
                                   {"user_agent", "Blink 5.1"},
                                   {"signaling_ip", "198.51.100.7"},
                                   {"media_relay", media_relay},
                                   {"media", "audio:192.168.1.10:50000:sendrecv:ice=no"}});
}

std::string remove_request(const std::string& call_id) {
  return module_request("remove", {{"call_id", call_id}, {"from_tag", "a73kszlfl"}, {"to_tag", "8d7f2a"}});
}

std::string opensips_request(const std::string& relative) {
  std::ifstream in(mpx::test::source_path("tests/unit/protocol/testdata/opensips-3.4/" + relative),
                   std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace mpx::dispatcher::testing
