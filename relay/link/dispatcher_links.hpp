// DispatcherLinks: one DispatcherLink per resolved [Relay] dispatchers entry (spec 5.12). Names
// are resolved (SRV, then A; see dispatcher_resolution.hpp) on a worker thread, never on the io
// thread, at start and every dns_check_interval; IPv4 literals need no DNS. A lookup that fails
// keeps the entry's previous address. A dispatcher that is no longer resolved stays connected
// while `owns_sessions` says sessions still belong to it, then is dropped; if it comes back
// before, it is simply kept.
// Single-threaded: every member is called on the executor's thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/link/dispatcher_id.hpp"
#include "relay/link/dispatcher_link.hpp"
#include "relay/link/dispatcher_resolution.hpp"
#include "relay/link/expired_sink.hpp"
#include "relay/link/link_options.hpp"
#include "relay/link/request_handler.hpp"

namespace mpx::relay::link {

class DispatcherLinks final : public ExpiredSink {
 public:
  // True while at least one session was created by that dispatcher.
  using OwnsSessions = std::function<bool(const DispatcherId&)>;
  // Called on the executor after each resolution round was applied (tests, diagnostics).
  using ResolvedHook = std::function<void()>;

  // `tls` must outlive this object and its io_context's pending work. `dns` is only used from
  // worker threads; nullptr means LibresolvDnsClient (the system's resolv.conf). Destroy (or
  // stop()) this object before its io_context.
  DispatcherLinks(boost::asio::any_io_executor executor, boost::asio::ssl::context& tls,
                  DispatcherLinksOptions options, std::shared_ptr<DnsClient> dns);
  ~DispatcherLinks() override;
  DispatcherLinks(const DispatcherLinks&) = delete;
  DispatcherLinks& operator=(const DispatcherLinks&) = delete;

  // Connects: IPv4 literals get their links at once, names after the first lookup (started
  // now). Requests go to `handler`, which must outlive this object's pending work; a dispatcher
  // that left the configuration keeps its link while `owns_sessions` says so. Once only.
  void start(RequestHandler& handler, OwnsSessions owns_sessions);
  // Stops every link and the re-resolution; a lookup in progress is ignored when it completes.
  // Idempotent. Afterwards nothing is pending on the executor.
  void stop();

  // Sends (or queues, see DispatcherLink::send_expired) the statistics to the dispatcher that
  // created the session. False when that dispatcher has no link any more (statistics lost).
  bool send_expired(const DispatcherId& dispatcher, std::string_view json) override;

  // Drops the links of dispatchers no longer resolved whose sessions are all gone. Called after
  // each resolution round; the session layer may call it when a session ends.
  void release_orphans() override;

  std::size_t connected_count() const;
  // Lines not yet written on any live connection (see DispatcherLink::pending_writes).
  std::size_t pending_writes() const;
  // Every dispatcher with a link (connected or retrying), orphans included.
  std::vector<DispatcherId> dispatchers() const;
  bool has_link(const DispatcherId& dispatcher) const { return links_.count(dispatcher) != 0; }
  // The link of `dispatcher` or nullptr (diagnostics, tests).
  std::shared_ptr<DispatcherLink> link(const DispatcherId& dispatcher) const;

  void on_resolved(ResolvedHook hook) { resolved_hook_ = std::move(hook); }

 private:
  struct Gate;
  // Per configured entry: the address, nullopt (not in DNS), or an error (lookup failed).
  using RoundResult = std::vector<Result<std::optional<DispatcherId>>>;

  void resolve_round();
  void schedule_next_round();
  void apply(RoundResult results);

  boost::asio::any_io_executor executor_;
  boost::asio::ssl::context& tls_;
  DispatcherLinksOptions options_;
  RequestHandler* handler_ = nullptr;  // set by start()
  std::shared_ptr<DnsClient> dns_;
  OwnsSessions owns_sessions_;
  ResolvedHook resolved_hook_;
  boost::asio::steady_timer dns_timer_;
  std::shared_ptr<Gate> gate_;

  struct Entry {
    std::shared_ptr<DispatcherLink> link;
    bool orphan = false;  // no longer resolved from the configuration
  };
  std::map<DispatcherId, Entry> links_;
  std::vector<std::optional<DispatcherId>> last_resolved_;  // per configured entry
  bool started_ = false;
  bool stopped_ = false;
  bool resolving_ = false;
  bool first_round_ = true;  // an absent name is logged once, then only on changes
};

}  // namespace mpx::relay::link
