// RelayService: the relay's protocol B request handler (spec 3.3) and the glue between the session
// logic (relay/session), the media engine (relay/engine) and the dispatcher links (relay/link):
//  - update / remove / sessions / summary are served from the SessionManager; the Actions it
//    returns go to the MediaEngine; "None" (no session for a reply without SDP) is answered
//    `error` (OpenSIPS issue #242);
//  - the engine's expiry events end streams in the SessionManager, and a session that ended on
//    its own is reported as `expired` to the dispatcher that created it;
//  - traffic sampling for the summary's bps_relayed (spec 5.14);
//  - shutdown: SIGHUP drains (new sessions answered `halting`, exit when the last one is gone),
//    SIGINT/SIGTERM expire every session and report it (spec 5.13).
//  - restart (issue 5 point 4): every change a restart needs (offer/answer, hand-off, end) is
//    written to the state file shortly after (one write per state_write_delay, never from the
//    packet path itself); recover() rebuilds a previous instance's sessions from it.
// Single-threaded: runs on the relay's io_context.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <filesystem>
#include <vector>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/config/config.hpp"
#include "relay/engine/media_engine.hpp"
#include "relay/link/dispatcher_links.hpp"
#include "relay/link/request_handler.hpp"
#include "relay/recovery/state_file.hpp"
#include "relay/session/port_pool.hpp"
#include "relay/session/session_manager.hpp"
#include "relay/session/traffic_sampler.hpp"

namespace mpx::relay::service {

struct RelayServiceSettings {
  boost::asio::ip::address_v4 relay_ip;
  std::optional<boost::asio::ip::address_v4> advertised_ip;
  bool auto_detect_interfaces = false;
  std::string datapath_name;
  engine::EngineSettings engine;
  config::PortRange port_range;
  std::chrono::seconds traffic_sampling_period{15};
  // Where the sessions are persisted for a restart (relay/recovery); empty: nowhere (a datapath
  // that keeps no kernel state across a restart has nothing to re-adopt).
  std::filesystem::path state_file;
  std::chrono::milliseconds state_write_delay{100};  // changes within it share one write
};

// What recover() did: the sessions re-created, those dropped (with why), and the flows the
// recovered sessions use (the caller removes every other flow a previous instance left).
struct RecoveryReport {
  std::vector<std::string> recovered;  // call ids
  std::vector<std::string> dropped;    // "call id: reason"
  std::vector<datapath::Flow> flows;
};

// From [Relay] (relay_ip already resolved by the caller).
RelayServiceSettings service_settings(const config::RelayConfig& relay,
                                      boost::asio::ip::address_v4 relay_ip,
                                      std::string datapath_name);

// What a kernel datapath says about itself beyond flows (the eBPF one: where and how it is
// attached, its per-verdict counters), for the summary and the metrics.
struct DatapathDetails {
  std::string attach;
  std::map<std::string, std::uint64_t> verdicts;
};

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
  RelayService(boost::asio::any_io_executor executor, RelayServiceSettings settings,
               datapath::MediaSockets& sockets, datapath::Datapath& datapath);
  ~RelayService() override;

  // The links `expired` goes through; set before start(), cleared before they are destroyed.
  void set_links(link::DispatcherLinks* links) { links_ = links; }
  // Optional: also told of every session that ended on its own or through expire_all(), before
  // it is sent to the links (tests observe `expired` this way without dispatcher links).
  void on_expired(std::function<void(const session::ExpiredSession&)> observer) {
    expired_observer_ = std::move(observer);
  }
  void start();
  // Before start(): re-creates the sessions of a previous instance's state file whose flows the
  // datapath still holds. `claim` must answer whether the datapath holds this flow (in this
  // orientation, e.g. BpfDatapath::claim_adopted) and take it as installed. A session is
  // recovered when it has an alive stream, every alive stream's RTP flow was handed off and
  // every persisted flow is claimed, and its ports can be bound again; otherwise it is dropped.
  RecoveryReport recover(const recovery::RelayState& state,
                         const std::function<Result<void>(const datapath::Flow&)>& claim);
  // Writes the state file now (if one is configured): sessions, flows, counters.
  void persist_now();

  boost::asio::awaitable<std::string> handle(const protocol::RelayRequest& request,
                                             const link::DispatcherId& from) override;

  bool owns_sessions(const link::DispatcherId& dispatcher) const;

  // SIGHUP: `drained` runs (once) when no session is left, at once if there is none.
  void drain(std::function<void()> drained);
  // SIGINT/SIGTERM: every session expires with its statistics sent to its dispatcher; every
  // flow leaves the datapath and every socket closes.
  void expire_all();
  void stop();

  std::size_t session_count() const { return manager_.session_count(); }
  engine::MediaEngine& engine() { return engine_; }
  const engine::MediaEngine::Stats& engine_stats() const { return engine_.stats(); }
  std::size_t installed_flows() const { return engine_.installed_flows(); }
  const session::SessionManager& sessions() const { return manager_; }
  const RequestStats& request_stats() const { return requests_; }
  double bps_relayed() const { return sampler_.bps_relayed(); }
  const std::string& datapath_name() const { return settings_.datapath_name; }
  void set_datapath_details(std::function<DatapathDetails()> details) {
    datapath_details_ = std::move(details);
  }
  std::optional<DatapathDetails> datapath_details() const {
    return datapath_details_ ? std::optional<DatapathDetails>(datapath_details_()) : std::nullopt;
  }
  std::string summary_json() const;

 private:
  std::string update(const protocol::RelayRequest& request, const link::DispatcherId& from);
  std::string remove(const protocol::RelayRequest& request);
  void apply(const session::Actions& actions);
  void on_rtp_expired(session::StreamId id, session::ExpiryReason reason,
                      std::int64_t timeout_wait);
  void report(const session::ExpiredSession& expired);
  session::SideAddresses resolve_sides(const session::SignalingAddresses& signaling) const;
  void check_drained();
  void arm_sampling();
  // Something a restart would need changed: write the state file soon (one write per delay).
  void state_changed();
  using ClaimFlow = std::function<Result<void>(const datapath::Flow&)>;
  Result<std::string> recover_session(const recovery::RecoveredSession& recovered,
                                      const ClaimFlow& claim, std::vector<datapath::Flow>& flows);

  boost::asio::any_io_executor executor_;
  RelayServiceSettings settings_;
  datapath::Datapath& datapath_;
  engine::MediaEngine engine_;
  session::PortPool pool_;
  session::SessionManager manager_;
  session::TrafficSampler sampler_;
  boost::asio::steady_timer sampling_timer_;
  boost::asio::steady_timer state_timer_;
  bool state_write_pending_ = false;
  std::string last_state_error_;
  std::chrono::steady_clock::time_point last_sample_;
  std::chrono::steady_clock::time_point started_;
  link::DispatcherLinks* links_ = nullptr;
  std::map<std::string, link::DispatcherId> origins_;
  std::function<void()> drained_;
  RequestStats requests_;
  std::function<DatapathDetails()> datapath_details_;
  std::function<void(const session::ExpiredSession&)> expired_observer_;
  std::shared_ptr<bool> alive_;
};

}  // namespace mpx::relay::service
