// DispatcherCore: what the dispatcher does with each module request and each relay event. New
// sessions go to the proxy's media_relay if usable, else to the least-loaded usable relay, failing
// over on error/halting/timeout/disconnect, all before the answer deadline; later requests go to
// the pinned relay; `remove` and `expired` statistics are annotated and accounted; dead calls are
// hung up through a DialogTerminator; reconnecting relays are reconciled with their `sessions`
// list; dead relays' and expired sessions are purged by timers. The management interface reads
// the relays it keeps through RelayManagementBackend (relay_management_backend.hpp).
// Single-threaded: run it on one io_context thread.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "common/protocol/module_request.hpp"
#include "common/protocol/session_statistics.hpp"
#include "dispatcher/hangup/dialog_terminator.hpp"
#include "dispatcher/relay_link.hpp"
#include "dispatcher/relay_registry.hpp"
#include "dispatcher/session_table.hpp"

namespace mpx::dispatcher {

struct CoreOptions {
  std::chrono::milliseconds relay_timeout{5000};
  std::chrono::milliseconds cleanup_dead_relays_after{std::chrono::hours(12)};
  std::chrono::milliseconds cleanup_expired_sessions_after{std::chrono::hours(24)};
  std::chrono::milliseconds expired_sweep_interval{std::chrono::minutes(10)};
};

// Receives the final, annotated statistics of every ended session exactly once.
using AccountingSink = std::function<void(const protocol::SessionStatistics&)>;

class DispatcherCore final {
 public:
  // `terminator` may be null (no dialog termination configured); it must outlive the core.
  // set_dialog_terminator() replaces it, e.g. once the daemon owns its runtime directory.
  DispatcherCore(boost::asio::any_io_executor executor, CoreOptions options,
                 AccountingSink accounting, DialogTerminator* terminator);
  void set_dialog_terminator(DialogTerminator* terminator) { terminator_ = terminator; }
  ~DispatcherCore();
  DispatcherCore(const DispatcherCore&) = delete;
  DispatcherCore& operator=(const DispatcherCore&) = delete;

  // Starts the expired-session sweep.
  void start();
  // Closes every relay link and stops the timers.
  void stop();

  // The reply line (with "\r\n") for one module request, produced before `deadline`.
  boost::asio::awaitable<std::string> handle(const protocol::ModuleRequest& request,
                                             Clock::time_point deadline);

  // What a new link must report to the core; pass to the RelayLink constructor.
  RelayLink::Events link_events();
  // A relay passed the handshake and the passport: register (replacing an older link from the
  // same IP), start it and reconcile our sessions with its `sessions` list.
  void relay_connected(const std::shared_ptr<RelayLink>& link);

  const SessionTable& sessions() const { return sessions_; }
  const RelayRegistry& relays() const { return relays_; }

 private:
  boost::asio::awaitable<std::string> handle_pinned(const protocol::ModuleRequest& request,
                                                    const std::string& call_id,
                                                    Clock::time_point deadline);
  // A new-session update that timed out may still create the session on the relay after we gave
  // up: ask that relay to remove it, so its ports do not stay allocated until a media timeout.
  void withdraw_unanswered_update(const std::shared_ptr<RelayLink>& link,
                                  const protocol::ModuleRequest& request,
                                  const std::string& call_id);
  boost::asio::awaitable<std::string> handle_new_session(const protocol::ModuleRequest& request,
                                                         const std::string& call_id,
                                                         Clock::time_point deadline);
  std::string finish_remove(const std::string& call_id, const std::string& relay_ip,
                            const std::string& payload);
  void on_expired(const std::shared_ptr<RelayLink>& link, const std::string& json);
  void on_closed(const std::shared_ptr<RelayLink>& link, const std::string& reason);
  boost::asio::awaitable<void> reconcile(std::shared_ptr<RelayLink> link);
  void end_dialog(const std::string& dialog_id, const std::string& call_id);
  void account(const protocol::SessionStatistics& stats);
  void schedule_sweep();

  boost::asio::any_io_executor executor_;
  CoreOptions options_;
  AccountingSink accounting_;
  DialogTerminator* terminator_;
  SessionTable sessions_;
  RelayRegistry relays_;
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>, std::less<>> dead_relay_timers_;
  boost::asio::steady_timer sweep_timer_;
  std::mt19937 random_;
  bool stopping_ = false;
  // Shared with the callbacks handed to links and timers, so they do nothing once the core is
  // gone.
  std::shared_ptr<DispatcherCore*> alive_;
};

}  // namespace mpx::dispatcher
