// The relay's protocol B handler and the carrying out of the session logic's actions; see
// relay_service.hpp.
#include "relay/service/relay_service.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/protocol/session_statistics.hpp"
#include "relay/recovery/session_recovery.hpp"
#include "relay/service/relay_summary.hpp"
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

RelayServiceSettings service_settings(const config::RelayConfig& relay, address_v4 relay_ip) {
  RelayServiceSettings settings;
  settings.relay_ip = relay_ip;
  settings.advertised_ip = relay.advertised_ip;
  settings.auto_detect_interfaces = relay.auto_detect_interfaces;
  settings.port_range = relay.port_range;
  settings.traffic_sampling_period = relay.traffic_sampling_period;
  auto& engine = settings.engine;
  engine.bind_ip = relay_ip;
  switch (relay.latching) {
    case config::LatchingPolicy::strict:
      engine.latch.policy = media::LatchPolicy::strict;
      break;
    case config::LatchingPolicy::signalled_only:
      engine.latch.policy = media::LatchPolicy::signalled_only;
      break;
    case config::LatchingPolicy::first_packet:
      engine.latch.policy = media::LatchPolicy::first_packet;
      break;
  }
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
                           datapath::MediaSockets& sockets, datapath::Datapath& datapath,
                           link::ExpiredSink* expired)
    : executor_(executor),
      settings_(std::move(settings)),
      datapath_(datapath),
      expired_(expired),
      engine_(executor, settings_.engine, sockets, datapath,
              engine::EngineEvents{
                  [this](session::StreamId id, session::Party party,
                         std::optional<std::uint8_t> payload_type) {
                    manager_.media_seen(id, party, payload_type, Clock::now());
                    state_.changed();
                  },
                  [this](session::StreamId id, session::ExpiryReason reason,
                         std::int64_t timeout_wait) { on_rtp_expired(id, reason, timeout_wait); },
                  [this] { state_.changed(); }}),
      pool_(settings_.port_range, [this](std::uint16_t port) { return engine_.bind_pair(port); },
            [this](std::uint16_t port) { engine_.release_pair(port); }),
      manager_(session::ManagerSettings{settings_.relay_ip, settings_.advertised_ip,
                                        [this](const session::SignalingAddresses& signaling) {
                                          return resolve_sides(signaling);
                                        }},
               pool_, [this](session::StreamId id) { return engine_.traffic(id); }),
      state_(executor, settings_.state_file, settings_.state_write_delay,
             [this] { return recovery::capture_state(manager_, engine_, datapath_.name()); }),
      started_(std::chrono::steady_clock::now()) {}

RelayService::~RelayService() { stop(); }

void RelayService::start() {
  started_ = std::chrono::steady_clock::now();
  engine_.start();
}

void RelayService::stop() {
  engine_.stop();
  state_.stop();
}

void RelayService::take_over_previous_relay() {
  recovery::take_over(datapath_, state_.path(), manager_, engine_);
  state_.changed();
}

void RelayService::sample_traffic(std::chrono::steady_clock::duration period) {
  sampler_.sample(manager_.relayed_bytes(), period);
}

std::chrono::seconds RelayService::uptime() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                          started_);
}

std::string RelayService::summary_json() const { return relay_summary_json(*this); }

session::SideAddresses RelayService::resolve_sides(
    const session::SignalingAddresses& signaling) const {
  session::SideAddresses sides{settings_.relay_ip, settings_.relay_ip};
  if (!settings_.auto_detect_interfaces || settings_.advertised_ip) {
    return sides;
  }
  // Caller side toward the signaling source, callee side toward the destination (MediaProxy's
  // auto_detect_interfaces).
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
  apply(outcome.value().actions);
  switch (outcome.value().kind) {
    case session::UpdateOutcome::Kind::no_session:
      // MediaProxy answered "None", which OpenSIPS then wrote into the SDP.
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
  state_.changed();
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
  state_.changed();
  apply(outcome.value().actions);
  auto payload = outcome.value().payload();
  spdlog::info("session {} removed", describe(request));
  if (expired_) {
    expired_->release_orphans();
  }
  check_drained();
  return payload;
}

void RelayService::apply(const session::Actions& actions) {
  if (!actions.empty()) {
    state_.changed();
  }
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
  const auto origin = link::DispatcherId::parse(expired.origin);
  if (!expired_ || !origin || !expired_->send_expired(*origin, protocol::to_json(stats))) {
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

}  // namespace mpx::relay::service
