// RelayService: the relay's protocol B request handler and the one place the session logic's
// decisions are carried out:
//  - update / remove / sessions / summary are served from the SessionManager; the Actions it
//    returns go to the MediaEngine; "None" (no session for a reply without SDP, which OpenSIPS
//    would write into the SDP) is answered `error`;
//  - a session that ended on its own (the engine's expiry, or expire_all()) is reported as
//    `expired` to the dispatcher that created it, through the ExpiredSink;
//  - drain() answers new sessions `halting` and says when the last one is gone.
// What it delegates: the state file to recovery::StateKeeper (it only says when something a
// restart needs changed), the summary document to relay_summary.hpp, the clock of the traffic
// sampling and every signal to the daemon that assembles it (relay/daemon).
// Single-threaded: runs on the relay's io_context.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address_v4.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "common/config/config.hpp"
#include "relay/engine/media_engine.hpp"
#include "relay/link/expired_sink.hpp"
#include "relay/link/request_handler.hpp"
#include "relay/recovery/state_keeper.hpp"
#include "relay/session/port_pool.hpp"
#include "relay/session/session_manager.hpp"
#include "relay/session/traffic_sampler.hpp"

namespace mpx::relay::service {

struct RelayServiceSettings {
  boost::asio::ip::address_v4 relay_ip;
  std::optional<boost::asio::ip::address_v4> advertised_ip;
  bool auto_detect_interfaces = false;
  engine::EngineSettings engine;
  config::PortRange port_range;
  std::chrono::seconds traffic_sampling_period{15};  // the daemon's sampling clock
  // Where the sessions are persisted for a restart (relay/recovery); empty: nowhere (a datapath
  // whose flows die with the process has nothing to take over).
  std::filesystem::path state_file;
  std::chrono::milliseconds state_write_delay{100};  // changes within it share one write
};

// From [Relay] (relay_ip already resolved by the caller).
RelayServiceSettings service_settings(const config::RelayConfig& relay,
                                      boost::asio::ip::address_v4 relay_ip);

// Requests served and sessions reported, for the metrics endpoint.
struct RequestStats {
  std::uint64_t updates = 0;
  std::uint64_t update_errors = 0;  // answered error (bad request, ports exhausted, no session)
  std::uint64_t removes = 0;
  std::uint64_t remove_errors = 0;
  std::uint64_t expired_reported = 0;
  std::uint64_t expired_lost = 0;  // no link to the dispatcher that created the session
};

class RelayService final : public link::RequestHandler {
 public:
  // `sockets`, `datapath` and `expired` (null: reports go only to the on_expired observer)
  // must outlive the service.
  RelayService(boost::asio::any_io_executor executor, RelayServiceSettings settings,
               datapath::MediaSockets& sockets, datapath::Datapath& datapath,
               link::ExpiredSink* expired);
  ~RelayService() override;
  RelayService(const RelayService&) = delete;
  RelayService& operator=(const RelayService&) = delete;

  // Optional: also told of every session that ended on its own or through expire_all(), before
  // it is sent to the dispatcher (tests observe `expired` this way without dispatcher links).
  void on_expired(std::function<void(const session::ExpiredSession&)> observer) {
    expired_observer_ = std::move(observer);
  }
  void start();
  void stop();

  // Before start(), with a datapath whose flows outlive the process: takes over the sessions
  // and flows a previous process left (recovery::take_over), then persists the result.
  void take_over_previous_relay();
  // Writes the state file now (if one is configured).
  void persist_now() { state_.write_now(); }

  boost::asio::awaitable<std::string> handle(const protocol::RelayRequest& request,
                                             const link::DispatcherId& from) override;
  bool owns_sessions(const link::DispatcherId& dispatcher) const;

  // New sessions are answered `halting`; `drained` runs (once) when no session is left, at
  // once if there is none.
  void drain(std::function<void()> drained);
  // Every session expires with its statistics sent to its dispatcher; every flow leaves the
  // datapath.
  void expire_all();

  // One sample of the relayed bit rate over the time since the previous one.
  void sample_traffic(std::chrono::steady_clock::duration period);

  std::size_t session_count() const { return manager_.session_count(); }
  engine::MediaEngine& engine() { return engine_; }
  const engine::MediaEngine& engine() const { return engine_; }
  const session::SessionManager& sessions() const { return manager_; }
  const RequestStats& request_stats() const { return requests_; }
  double bps_relayed() const { return sampler_.bps_relayed(); }
  const datapath::Datapath& datapath() const { return datapath_; }
  const RelayServiceSettings& settings() const { return settings_; }
  std::chrono::seconds uptime() const;
  std::string summary_json() const;  // relay_summary.hpp

 private:
  std::string update(const protocol::RelayRequest& request, const link::DispatcherId& from);
  std::string remove(const protocol::RelayRequest& request);
  void apply(const session::Actions& actions);
  void on_rtp_expired(session::StreamId id, session::ExpiryReason reason,
                      std::int64_t timeout_wait);
  void report(const session::ExpiredSession& expired);
  session::SideAddresses resolve_sides(const session::SignalingAddresses& signaling) const;
  void check_drained();

  boost::asio::any_io_executor executor_;
  RelayServiceSettings settings_;
  datapath::Datapath& datapath_;
  link::ExpiredSink* expired_;
  engine::MediaEngine engine_;
  session::PortPool pool_;
  session::SessionManager manager_;
  session::TrafficSampler sampler_;
  recovery::StateKeeper state_;
  std::chrono::steady_clock::time_point started_;
  std::function<void()> drained_;
  RequestStats requests_;
  std::function<void(const session::ExpiredSession&)> expired_observer_;
};

}  // namespace mpx::relay::service
