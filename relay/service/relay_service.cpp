// The relay's request handler and the session/engine/links glue; see relay_service.hpp.
#include "relay/service/relay_service.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <utility>
#include <variant>

#include "common/protocol/python_json.hpp"
#include "common/protocol/relay_summary.hpp"
#include "common/protocol/session_statistics.hpp"
#include "common/version.hpp"
#include "relay/system/local_address.hpp"

namespace mpx::relay::service {
namespace {

using boost::asio::ip::address_v4;
using session::Clock;

std::string header_or(const protocol::RelayRequest& request, std::string_view name) {
  const auto value = request.find(name);
  return value ? std::string(*value) : std::string("?");
}

std::string describe(const protocol::RelayRequest& request) {
  return "call_id " + header_or(request, "call_id") + ", from_tag " +
         header_or(request, "from_tag");
}

}  // namespace

RelayServiceSettings service_settings(const config::RelayConfig& relay, address_v4 relay_ip,
                                      std::string datapath_name) {
  RelayServiceSettings settings;
  settings.relay_ip = relay_ip;
  settings.advertised_ip = relay.advertised_ip;
  settings.auto_detect_interfaces = relay.auto_detect_interfaces;
  settings.datapath_name = std::move(datapath_name);
  settings.port_range = relay.port_range;
  settings.traffic_sampling_period = relay.traffic_sampling_period;
  auto& engine = settings.engine;
  engine.bind_ip = relay_ip;
  engine.latch.policy = relay.latching == config::LatchingPolicy::first_packet
                            ? media::LatchPolicy::first_packet
                            : media::LatchPolicy::strict;
  engine.latch.window = relay.latching_window;
  engine.stream_timeout = relay.stream_timeout;
  engine.on_hold_timeout = relay.on_hold_timeout;
  // Timers fire up to one poll late; a sixth of the shortest timeout, within [100 ms, 5 s].
  const auto shortest = std::min(relay.stream_timeout, relay.on_hold_timeout);
  engine.poll_interval = std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(shortest) / 6,
      std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
  engine.routable_private_ranges = relay.routable_private_ranges;
  return settings;
}

RelayService::RelayService(boost::asio::any_io_executor executor, RelayServiceSettings settings,
                           datapath::MediaSockets& sockets, datapath::Datapath& datapath)
    : executor_(executor),
      settings_(std::move(settings)),
      datapath_(datapath),
      engine_(executor, settings_.engine, sockets, datapath,
              engine::EngineEvents{
                  [this](session::StreamId id, session::Party party,
                         std::optional<std::uint8_t> payload_type) {
                    manager_.media_seen(id, party, payload_type, Clock::now());
                  },
                  [this](session::StreamId id, session::ExpiryReason reason,
                         std::int64_t timeout_wait) { on_rtp_expired(id, reason, timeout_wait); }}),
      pool_(settings_.port_range, [this](std::uint16_t port) { return engine_.bind_pair(port); },
            [this](std::uint16_t port) { engine_.release_pair(port); }),
      manager_(session::ManagerSettings{settings_.relay_ip, settings_.advertised_ip,
                                        [this](const session::SignalingAddresses& signaling) {
                                          return resolve_sides(signaling);
                                        }},
               pool_, [this](session::StreamId id) { return engine_.traffic(id); }),
      sampling_timer_(executor),
      alive_(std::make_shared<bool>(true)) {}

RelayService::~RelayService() {
  *alive_ = false;
  stop();
}

void RelayService::start() {
  started_ = std::chrono::steady_clock::now();
  last_sample_ = started_;
  engine_.start();
  if (settings_.traffic_sampling_period.count() > 0) {
    arm_sampling();
  }
}

void RelayService::stop() {
  engine_.stop();
  sampling_timer_.cancel();
}

session::SideAddresses RelayService::resolve_sides(
    const session::SignalingAddresses& signaling) const {
  session::SideAddresses sides{settings_.relay_ip, settings_.relay_ip};
  if (!settings_.auto_detect_interfaces || settings_.advertised_ip) {
    return sides;
  }
  // Spec 5.4: caller side toward the signaling source, callee side toward the destination.
  if (signaling.signaling_ip) {
    if (auto local = system::local_address_toward(*signaling.signaling_ip)) {
      sides.caller_side = local.value();
    }
  }
  const auto callee_target = signaling.destination_ip ? signaling.destination_ip
                                                      : signaling.signaling_ip;
  if (callee_target) {
    if (auto local = system::local_address_toward(*callee_target)) {
      sides.callee_side = local.value();
    }
  }
  return sides;
}

boost::asio::awaitable<std::string> RelayService::handle(const protocol::RelayRequest& request,
                                                         const link::DispatcherId& from) {
  if (request.command == "update") {
    co_return update(request, from);
  }
  if (request.command == "remove") {
    co_return remove(request);
  }
  if (request.command == "sessions") {
    co_return protocol::to_json(manager_.sessions(Clock::now()));
  }
  if (request.command == "summary") {
    co_return summary_json();
  }
  co_return "error";
}

std::string RelayService::update(const protocol::RelayRequest& request,
                                 const link::DispatcherId& from) {
  const std::string origin = from.to_string();
  auto outcome = manager_.update(request, origin, Clock::now());
  if (!outcome) {
    ++requests_.update_errors;
    spdlog::warn("update ({}) refused: {}", describe(request), outcome.error().message);
    return "error";
  }
  origins_[origin] = from;
  apply(outcome.value().actions);
  switch (outcome.value().kind) {
    case session::UpdateOutcome::Kind::no_session:
      // MediaProxy answered "None", which OpenSIPS wrote into the SDP (issue #242).
      spdlog::info("update ({}): no session for a reply without SDP; answered error",
                   describe(request));
      ++requests_.update_errors;
      return "error";
    case session::UpdateOutcome::Kind::halting:
      return "halting";
    case session::UpdateOutcome::Kind::ports:
      break;
  }
  ++requests_.updates;
  return outcome.value().payload();
}

std::string RelayService::remove(const protocol::RelayRequest& request) {
  auto outcome = manager_.remove(request, Clock::now());
  if (!outcome) {
    ++requests_.remove_errors;
    spdlog::info("remove ({}) refused: {}", describe(request), outcome.error().message);
    return "error";
  }
  ++requests_.removes;
  apply(outcome.value().actions);
  auto payload = outcome.value().payload();
  spdlog::info("session {} removed", describe(request));
  if (links_) {
    links_->release_orphans();
  }
  check_drained();
  return payload;
}

void RelayService::apply(const session::Actions& actions) {
  for (const auto& action : actions) {
    const session::StreamId id = std::visit([](const auto& a) { return a.id; }, action);
    engine::SignalingHints hints;
    if (const auto* session = manager_.session_of_stream(id)) {
      hints.caller = session->signaling_ip(session::Party::caller);
      hints.callee = session->signaling_ip(session::Party::callee);
      if (!hints.callee) {
        hints.callee = session->signaling().destination_ip;
      }
    }
    engine_.apply(action, hints);
  }
}

void RelayService::on_rtp_expired(session::StreamId id, session::ExpiryReason reason,
                                  std::int64_t timeout_wait) {
  auto outcome = manager_.rtp_expired(id, reason, timeout_wait, Clock::now());
  apply(outcome.actions);
  if (outcome.expired) {
    report(*outcome.expired);
    check_drained();
  }
}

void RelayService::report(const session::ExpiredSession& expired) {
  const auto& stats = expired.statistics;
  spdlog::info("session {} (from_tag {}) expired, reporting to {}", stats.call_id, stats.from_tag,
               expired.origin);
  if (expired_observer_) {
    expired_observer_(expired);
  }
  const auto origin = origins_.find(expired.origin);
  if (!links_ || origin == origins_.end() ||
      !links_->send_expired(origin->second, protocol::to_json(stats))) {
    ++requests_.expired_lost;
    spdlog::warn("statistics of session {} lost: no link to dispatcher {}", stats.call_id,
                 expired.origin);
    return;
  }
  ++requests_.expired_reported;
}

bool RelayService::owns_sessions(const link::DispatcherId& dispatcher) const {
  return manager_.has_session_from(dispatcher.to_string());
}

void RelayService::drain(std::function<void()> drained) {
  manager_.set_halting(true);
  drained_ = std::move(drained);
  spdlog::info("halting: new sessions refused, {} session(s) left", manager_.session_count());
  check_drained();
}

void RelayService::check_drained() {
  if (drained_ && manager_.halting() && manager_.session_count() == 0) {
    // Posted: the answer to the request that ended the last session must be queued on its link
    // before the relay starts stopping.
    boost::asio::post(executor_, std::exchange(drained_, nullptr));
  }
}

void RelayService::expire_all() {
  auto outcome = manager_.expire_all(Clock::now());
  apply(outcome.actions);
  for (const auto& expired : outcome.expired) {
    report(expired);
  }
  engine_.close_all();
}

std::string RelayService::summary_json() const {
  protocol::RelaySummary base;
  base.ip = settings_.relay_ip.to_string();
  base.version = kVersion;
  base.status = manager_.halting() ? "halting" : "active";
  base.uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                 started_)
                    .count();
  base.bps_relayed = sampler_.bps_relayed();
  auto json = protocol::to_ordered_json(manager_.summary(base));
  json["load"] = manager_.counts().load;
  // mpx: how the relay moves packets and what its sockets saw (dispatchers ignore unknown keys).
  const auto& stats = engine_.stats();
  json["datapath"] = {{"name", settings_.datapath_name},
                      {"flows", engine_.installed_flows()},
                      {"handoffs", stats.handoffs},
                      {"handoff_errors", stats.handoff_errors},
                      {"flows_lost", stats.flows_lost},
                      {"relayed_packets", stats.relayed_packets},
                      {"dropped_learning", stats.learning},
                      {"dropped_strangers", stats.strangers},
                      {"dropped_invalid", stats.invalid},
                      {"dropped_no_destination", stats.no_destination},
                      {"dropped_unknown_port", stats.unknown_port},
                      {"latched", stats.latches}};
  if (const auto details = datapath_details()) {
    json["datapath"]["attach"] = details->attach;
    json["datapath"]["verdicts"] = details->verdicts;
  }
  return protocol::python_json_dump(json);
}

void RelayService::arm_sampling() {
  sampling_timer_.expires_after(settings_.traffic_sampling_period);
  sampling_timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (error || !*alive) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    const auto began = std::chrono::steady_clock::now();
    sampler_.sample(manager_.relayed_bytes(), now - last_sample_);
    last_sample_ = now;
    const auto took = std::chrono::steady_clock::now() - began;
    if (took > std::chrono::milliseconds(10)) {
      spdlog::warn("traffic sampling took {} ms",
                   std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
    }
    arm_sampling();
  });
}

}  // namespace mpx::relay::service
