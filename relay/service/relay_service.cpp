// The relay's request handler and the session/engine/links glue; see relay_service.hpp.
#include "relay/service/relay_service.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <stdexcept>
#include <string>
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
                           datapath::MediaSockets& sockets, datapath::Datapath& datapath)
    : executor_(executor),
      settings_(std::move(settings)),
      datapath_(datapath),
      engine_(executor, settings_.engine, sockets, datapath,
              engine::EngineEvents{
                  [this](session::StreamId id, session::Party party,
                         std::optional<std::uint8_t> payload_type) {
                    manager_.media_seen(id, party, payload_type, Clock::now());
                    state_changed();
                  },
                  [this](session::StreamId id, session::ExpiryReason reason,
                         std::int64_t timeout_wait) { on_rtp_expired(id, reason, timeout_wait); },
                  [this] { state_changed(); }}),
      pool_(settings_.port_range, [this](std::uint16_t port) { return engine_.bind_pair(port); },
            [this](std::uint16_t port) { engine_.release_pair(port); }),
      manager_(session::ManagerSettings{settings_.relay_ip, settings_.advertised_ip,
                                        [this](const session::SignalingAddresses& signaling) {
                                          return resolve_sides(signaling);
                                        }},
               pool_, [this](session::StreamId id) { return engine_.traffic(id); }),
      sampling_timer_(executor),
      state_timer_(executor),
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
  state_timer_.cancel();
  state_write_pending_ = false;
}

void RelayService::state_changed() {
  if (settings_.state_file.empty() || state_write_pending_) {
    return;
  }
  state_write_pending_ = true;
  state_timer_.expires_after(settings_.state_write_delay);
  state_timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (error || !*alive) {
      return;
    }
    state_write_pending_ = false;
    persist_now();
  });
}

void RelayService::persist_now() {
  if (settings_.state_file.empty()) {
    return;
  }
  recovery::RelayState state;
  state.datapath = settings_.datapath_name;
  for (auto& snapshot : manager_.snapshots()) {
    recovery::RecoveredSession saved;
    for (const auto& stream : snapshot.streams) {
      if (stream.alive && stream.has_ports) {
        if (auto media = engine_.recovery_state(stream.id)) {
          saved.media.push_back(*media);
        }
      }
    }
    saved.session = std::move(snapshot);
    state.sessions.push_back(std::move(saved));
  }
  auto written = recovery::write_state_file(settings_.state_file, state);
  if (!written) {
    // Once per distinct failure: a full disk must not flood the log.
    if (written.error().message != last_state_error_) {
      spdlog::error("state file not written (a restart will not recover sessions): {}",
                    written.error().message);
      last_state_error_ = written.error().message;
    }
    return;
  }
  last_state_error_.clear();
}

namespace {

std::optional<link::DispatcherId> dispatcher_of(const std::string& origin) {
  const auto colon = origin.rfind(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  boost::system::error_code error;
  const auto ip = boost::asio::ip::make_address_v4(origin.substr(0, colon), error);
  unsigned long port = 0;
  try {
    port = std::stoul(origin.substr(colon + 1));
  } catch (const std::logic_error&) {
    return std::nullopt;
  }
  if (error || port == 0 || port > 65535) {
    return std::nullopt;
  }
  return link::DispatcherId{ip, static_cast<std::uint16_t>(port)};
}

}  // namespace

Result<std::string> RelayService::recover_session(
    const recovery::RecoveredSession& recovered,
    const std::function<Result<void>(const datapath::Flow&)>& claim,
    std::vector<datapath::Flow>& flows) {
  const auto& snapshot = recovered.session;
  const auto media_of = [&](session::StreamId id) -> const engine::StreamRecovery* {
    for (const auto& media : recovered.media) {
      if (media.id == id) {
        return &media;
      }
    }
    return nullptr;
  };
  std::vector<datapath::Flow> wanted;
  std::size_t alive = 0;
  for (const auto& stream : snapshot.streams) {
    if (!stream.alive || !stream.has_ports) {
      continue;
    }
    ++alive;
    const auto* media = media_of(stream.id);
    if (!media || !media->rtp.installed) {
      return Error{"stream " + std::to_string(stream.id) + " (" + stream.media_type +
                   ") was not handed off to the datapath"};
    }
    for (const auto* sub : {&media->rtp, &media->rtcp}) {
      if (sub->installed) {
        wanted.push_back(*sub->installed);
      }
    }
  }
  if (alive == 0) {
    return Error{"no alive stream"};
  }
  const auto origin = dispatcher_of(snapshot.origin);
  if (!origin) {
    return Error{"bad dispatcher \"" + snapshot.origin + "\""};
  }
  for (const auto& flow : wanted) {
    if (auto claimed = claim(flow); !claimed) {
      return Error{"flow gone: " + claimed.error().message};
    }
  }
  if (auto restored = manager_.restore(snapshot); !restored) {
    return restored.error();
  }
  origins_[snapshot.origin] = *origin;
  engine::SignalingHints hints;
  hints.caller = snapshot.caller_signaling_ip;
  hints.callee = snapshot.callee_signaling_ip ? snapshot.callee_signaling_ip
                                              : snapshot.signaling.destination_ip;
  for (const auto& stream : snapshot.streams) {
    if (stream.alive && stream.has_ports) {
      engine_.restore_stream(stream, *media_of(stream.id), hints);
    }
  }
  flows.insert(flows.end(), wanted.begin(), wanted.end());
  return std::to_string(alive) + " stream(s), " + std::to_string(wanted.size()) +
         " flow(s), dispatcher " + snapshot.origin;
}

RecoveryReport RelayService::recover(
    const recovery::RelayState& state,
    const std::function<Result<void>(const datapath::Flow&)>& claim) {
  RecoveryReport report;
  for (const auto& recovered : state.sessions) {
    const auto& key = recovered.session.key;
    auto outcome = recover_session(recovered, claim, report.flows);
    if (outcome) {
      spdlog::info("recovered session {} (from_tag {}): {}", key.first, key.second,
                   outcome.value());
      report.recovered.push_back(key.first);
    } else {
      spdlog::warn("dropped session {} (from_tag {}) of the previous relay: {}", key.first,
                   key.second, outcome.error().message);
      report.dropped.push_back(key.first + ": " + outcome.error().message);
    }
  }
  state_changed();
  return report;
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
  state_changed();
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
  state_changed();
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
  if (!actions.empty()) {
    state_changed();
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
                      {"latched", stats.latches},
                      {"lock_takeovers", stats.takeovers},
                      {"lock_rebindings", stats.rebindings}};
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
