// DispatcherHarness: the dispatcher (DispatcherService) running in-process on its own io_context
// thread, configured for loopback with the test PKI (relay listener on an ephemeral port, module
// socket in a private directory), recording what it accounts and which dialogs it hangs up.
// ModuleClient: a blocking protocol-A client on the module socket, as a proxy worker.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/config/config.hpp"
#include "dispatcher/dispatcher_service.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher::testing {

class RecordingTerminator final : public DialogTerminator {
 public:
  void end_dialog(const std::string& dialog_id, const std::string& call_id) override;
  std::vector<std::pair<std::string, std::string>> calls() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> calls_;
};

class DispatcherHarness {
 public:
  using Tweak = std::function<void(config::Config&, ServiceOptions&)>;
  explicit DispatcherHarness(const Tweak& tweak = {});
  ~DispatcherHarness();

  // Empty when the service started; else its error line.
  const std::string& open_error() const { return open_error_; }
  boost::asio::ip::tcp::endpoint relay_endpoint() const { return relay_endpoint_; }
  const std::filesystem::path& socket_path() const { return socket_path_; }

  // Runs `f` on the dispatcher's thread and returns its result.
  template <class F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  std::size_t relay_count();
  std::size_t session_count();
  std::optional<std::string> pinned_relay(const std::string& call_id);
  std::vector<protocol::SessionStatistics> accounted() const;
  // The management back-end's answer: summary_json() if `summary`, else sessions_json().
  std::string management(bool summary);
  RecordingTerminator& terminator() { return terminator_; }

  // Polls `condition` until it holds or `timeout` passes.
  static bool eventually(const std::function<bool()>& condition,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  mpx::test::TempDir dir_;
  config::Config config_;
  boost::asio::io_context io_;
  RecordingTerminator terminator_;
  mutable std::mutex mutex_;
  std::vector<protocol::SessionStatistics> accounted_;
  std::unique_ptr<DispatcherService> service_;
  std::string open_error_;
  boost::asio::ip::tcp::endpoint relay_endpoint_;
  std::filesystem::path socket_path_;
  std::thread thread_;
};

class ModuleClient {
 public:
  explicit ModuleClient(const std::filesystem::path& socket);
  ~ModuleClient();
  ModuleClient(const ModuleClient&) = delete;
  ModuleClient& operator=(const ModuleClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(std::string_view bytes);
  // The next reply line without "\r\n"; nullopt on timeout or when the dispatcher closed.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  // send() then read_line().
  std::optional<std::string> ask(std::string_view request,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(3));
  // True when the dispatcher closed the connection (EOF) within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string buffer_;
};

// Protocol A request text: command, then `name: value` lines, then the empty line.
std::string module_request(const std::string& command,
                           const std::vector<std::pair<std::string, std::string>>& headers);
// An `update` for a new call as OpenSIPS's engage_media_proxy() sends it.
std::string update_request(const std::string& call_id, const std::string& media_relay = "",
                           const std::string& dialog_id = "5063766441986",
                           const std::string& type = "request");
std::string remove_request(const std::string& call_id);
// The bytes of a recorded OpenSIPS 3.4 request (tests/unit/protocol/testdata/opensips-3.4/).
std::string opensips_request(const std::string& relative);

}  // namespace mpx::dispatcher::testing
