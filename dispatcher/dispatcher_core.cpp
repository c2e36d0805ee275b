// DispatcherCore (see dispatcher_core.hpp).
#include "dispatcher/dispatcher_core.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "common/protocol/module_reply.hpp"
#include "common/asio/spawn.hpp"
#include "dispatcher/relay_selection.hpp"
#include "dispatcher/reply_rules.hpp"

namespace mpx::dispatcher {

using asio_util::spawn;

namespace asio = boost::asio;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

const std::string kError(protocol::kErrorReply);
const std::string kRemoved(protocol::kRemovedReply);

std::optional<std::string> header(const protocol::ModuleRequest& request, std::string_view name) {
  auto value = request.find(name);
  return value ? std::optional<std::string>(std::string(*value)) : std::nullopt;
}

long long ms(Clock::duration d) { return duration_cast<milliseconds>(d).count(); }

}  // namespace

DispatcherCore::DispatcherCore(asio::any_io_executor executor, CoreOptions options,
                               AccountingSink accounting, DialogTerminator* terminator)
    : executor_(std::move(executor)),
      options_(options),
      accounting_(std::move(accounting)),
      terminator_(terminator),
      sweep_timer_(executor_),
      random_(std::random_device{}()),
      alive_(std::make_shared<DispatcherCore*>(this)) {}

DispatcherCore::~DispatcherCore() {
  *alive_ = nullptr;
  stop();
}

void DispatcherCore::start() { schedule_sweep(); }

void DispatcherCore::stop() {
  stopping_ = true;
  sweep_timer_.cancel();
  for (auto& [ip, timer] : dead_relay_timers_) {
    timer->cancel();
  }
  dead_relay_timers_.clear();
  for (const auto& link : relays_.all()) {
    link->close("the dispatcher is shutting down");
  }
}

RelayLink::Events DispatcherCore::link_events() {
  std::weak_ptr<DispatcherCore*> alive = alive_;
  RelayLink::Events events;
  events.on_expired = [alive](const std::shared_ptr<RelayLink>& link, std::string json) {
    if (auto core = alive.lock(); core && *core) {
      (*core)->on_expired(link, json);
    }
  };
  events.on_closed = [alive](const std::shared_ptr<RelayLink>& link, const std::string& reason) {
    if (auto core = alive.lock(); core && *core) {
      (*core)->on_closed(link, reason);
    }
  };
  return events;
}

void DispatcherCore::relay_connected(const std::shared_ptr<RelayLink>& link) {
  if (stopping_) {
    link->close("the dispatcher is shutting down");
    return;
  }
  auto previous = relays_.add(link);
  if (const auto timer = dead_relay_timers_.find(link->peer_ip());
      timer != dead_relay_timers_.end()) {
    timer->second->cancel();
    dead_relay_timers_.erase(timer);
  }
  if (previous) {
    spdlog::info("relay {} reconnected: the new link replaces the old one", link->peer_ip());
    previous->close("replaced by a new connection from the same address");
  } else {
    spdlog::info("relay {} connected", link->peer_ip());
  }
  link->start();
  spawn(executor_, reconcile(link), "relay " + link->peer_ip() + " reconciliation");
}

asio::awaitable<std::string> DispatcherCore::handle(const protocol::ModuleRequest& request,
                                                    Clock::time_point deadline) {
  const auto call_id = header(request, "call_id");
  if (!call_id) {
    spdlog::warn("module request '{}' without call_id: answering error", request.command);
    co_return kError;
  }
  const auto* session = sessions_.find(*call_id);
  if (session && !session->expired) {
    co_return co_await handle_pinned(request, *call_id, deadline);
  }
  if (request.command == "update") {
    co_return co_await handle_new_session(request, *call_id, deadline);
  }
  if (session && request.command == "remove") {
    // We ended this call ourselves (spec 6.4): the relay no longer has it.
    sessions_.erase(*call_id);
    spdlog::debug("call {}: remove of a session the dispatcher ended: removed", *call_id);
    co_return kRemoved;
  }
  spdlog::warn("call {}: '{}' for a session the dispatcher does not know: answering error",
               *call_id, request.command);
  co_return kError;
}

asio::awaitable<std::string> DispatcherCore::handle_pinned(const protocol::ModuleRequest& request,
                                                           const std::string& call_id,
                                                           Clock::time_point deadline) {
  const std::string relay_ip = sessions_.find(call_id)->relay_ip;
  if (auto dialog_id = header(request, "dialog_id")) {
    sessions_.learn_dialog_id(call_id, *dialog_id);
  }
  auto link = relays_.find(relay_ip);
  if (!link || link->closed()) {
    spdlog::error("call {}: '{}' cannot be served: its relay {} is not connected", call_id,
                  request.command, relay_ip);
    co_return kError;
  }
  const auto now = Clock::now();
  if (now >= deadline) {
    spdlog::error("call {}: '{}' answered error: the answer budget was spent before reaching relay "
                  "{}",
                  call_id, request.command, relay_ip);
    co_return kError;
  }
  const auto attempt_deadline = std::min(deadline, now + options_.relay_timeout);
  auto answer = co_await link->request(request.command, request.headers, attempt_deadline);
  if (answer.kind != RelayAnswer::Kind::reply) {
    if (answer.kind == RelayAnswer::Kind::timeout) {
      link->mark_timed_out();
      spdlog::error("call {}: relay {} did not answer '{}' within {} ms: answering error", call_id,
                    relay_ip, request.command, ms(attempt_deadline - now));
    } else {
      spdlog::error("call {}: '{}' to relay {} failed ({}{}): answering error", call_id,
                    request.command, relay_ip, to_string(answer.kind),
                    answer.payload.empty() ? "" : ": " + answer.payload);
    }
    co_return kError;
  }
  if (request.command == "remove") {
    co_return finish_remove(call_id, relay_ip, answer.payload);
  }
  switch (classify_update_payload(answer.payload)) {
    case UpdatePayload::ports:
      co_return answer.payload + "\r\n";
    case UpdatePayload::halting:
      link->mark_halting();
      spdlog::error("call {}: relay {} is halting and cannot serve '{}': answering error", call_id,
                    relay_ip, request.command);
      co_return kError;
    case UpdatePayload::error:
      spdlog::warn("call {}: relay {} answered '{}' with error", call_id, relay_ip,
                   request.command);
      co_return kError;
    case UpdatePayload::none:
      spdlog::warn("call {}: relay {} answered '{}' with None: answering error", call_id,
                   relay_ip, request.command);
      co_return kError;
    case UpdatePayload::malformed:
      break;
  }
  spdlog::error("call {}: relay {} answered '{}' with something that is not '<ip> <port>...' "
                "({:.80}): answering error",
                call_id, relay_ip, request.command, answer.payload);
  co_return kError;
}

std::string DispatcherCore::finish_remove(const std::string& call_id, const std::string& relay_ip,
                                          const std::string& payload) {
  const auto* session = sessions_.find(call_id);
  const auto dialog_id = session ? session->dialog_id : std::nullopt;
  // Whatever the relay answered, it has no session left for this call: forget ours too (a
  // MediaProxy dispatcher kept it after an `error`, a leak until the 12 h purge).
  sessions_.erase(call_id);
  if (payload == "error") {
    spdlog::warn("call {}: relay {} answered remove with error (no such session there)", call_id,
                 relay_ip);
    return kError;
  }
  auto stats = protocol::session_statistics_from_json(payload);
  if (!stats.has_value()) {
    spdlog::error("call {}: relay {} removed the session but its statistics are unusable, lost: {}",
                  call_id, relay_ip, stats.error().message);
    return kRemoved;
  }
  if (annotate_removed(stats.value(), dialog_id)) {
    account(stats.value());
  }
  return kRemoved;
}

void DispatcherCore::withdraw_unanswered_update(const std::shared_ptr<RelayLink>& link,
                                                const protocol::ModuleRequest& request,
                                                const std::string& call_id) {
  // The relay answers requests in order, so this remove reaches it after the update.
  std::vector<protocol::Header> headers;
  for (const char* name : {"call_id", "from_tag", "to_tag"}) {
    if (const auto value = request.find(name)) {
      headers.push_back({name, std::string(*value)});
    }
  }
  const auto deadline = Clock::now() + options_.relay_timeout;
  spawn(
      executor_,
      [](std::shared_ptr<RelayLink> relay, std::vector<protocol::Header> remove_headers,
         std::string id, Clock::time_point until) -> asio::awaitable<void> {
        const auto answer = co_await relay->request("remove", std::move(remove_headers), until);
        spdlog::info("call {}: withdrew the unanswered update from relay {}: {}", id,
                     relay->peer_ip(),
                     answer.kind == RelayAnswer::Kind::reply
                         ? (answer.payload == "error" ? "it had no session" : "session removed")
                         : std::string(to_string(answer.kind)));
      }(link, std::move(headers), call_id, deadline),
      "withdrawing call " + call_id + " from relay " + link->peer_ip());
}

asio::awaitable<std::string> DispatcherCore::handle_new_session(
    const protocol::ModuleRequest& request, const std::string& call_id,
    Clock::time_point deadline) {
  std::vector<RelayCandidate> candidates;
  for (const auto& link : relays_.all()) {
    candidates.push_back({link->peer_ip(), link->usable(), link->load()});
  }
  const auto media_relay = request.find("media_relay");
  const auto plan = plan_selection(candidates, media_relay, random_);
  if (plan.preferred_unavailable) {
    spdlog::warn("call {}: requested media_relay {} is not available, using another relay",
                 call_id, *media_relay);
  }
  const auto started = Clock::now();
  std::vector<std::string> failures;
  for (std::size_t i = 0; i < plan.order.size(); ++i) {
    const auto& ip = plan.order[i];
    auto link = relays_.find(ip);
    if (!link || !link->usable()) {
      continue;  // lost or marked while an earlier attempt was waiting
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      failures.push_back("answer budget spent before trying " + ip);
      break;
    }
    // Leave time for the next relays: a hung relay may use half of what is left, the last one
    // all of it, and never more than relay_timeout.
    const auto remaining = deadline - now;
    const auto share = i + 1 < plan.order.size() ? remaining / 2 : remaining;
    const auto attempt_deadline =
        now + std::min<Clock::duration>(share, options_.relay_timeout);
    auto answer = co_await link->request(request.command, request.headers, attempt_deadline);
    if (answer.kind == RelayAnswer::Kind::not_sent) {
      spdlog::error("call {}: the request cannot be forwarded to a relay ({}): answering error",
                    call_id, answer.payload);
      co_return kError;
    }
    if (answer.kind == RelayAnswer::Kind::timeout) {
      link->mark_timed_out();
      withdraw_unanswered_update(link, request, call_id);
      failures.push_back(fmt::format("{} timed out after {} ms", ip, ms(attempt_deadline - now)));
      continue;
    }
    if (answer.kind == RelayAnswer::Kind::disconnected) {
      failures.push_back(ip + " disconnected");
      continue;
    }
    switch (classify_update_payload(answer.payload)) {
      case UpdatePayload::ports: {
        sessions_.pin(call_id, ip, header(request, "dialog_id"), Clock::now());
        link->note_session_placed();
        if (!failures.empty()) {
          spdlog::info("call {}: placed on relay {} after: {}", call_id, ip,
                       fmt::join(failures, "; "));
        } else {
          spdlog::debug("call {}: placed on relay {}", call_id, ip);
        }
        co_return answer.payload + "\r\n";
      }
      case UpdatePayload::halting:
        link->mark_halting();
        failures.push_back(ip + " is halting");
        continue;
      case UpdatePayload::error:
        failures.push_back(ip + " answered error");
        continue;
      case UpdatePayload::none:
        spdlog::warn("call {}: relay {} answered None (a reply without SDP for a session it does "
                     "not have): answering error",
                     call_id, ip);
        co_return kError;
      case UpdatePayload::malformed:
        failures.push_back(fmt::format("{} answered garbage ({:.80})", ip, answer.payload));
        continue;
    }
  }
  if (plan.order.empty()) {
    spdlog::error("call {}: no relay is connected and usable: answering error", call_id);
  } else {
    spdlog::error("call {}: no relay took the session within {} ms ({}): answering error", call_id,
                  ms(Clock::now() - started), fmt::join(failures, "; "));
  }
  co_return kError;
}

void DispatcherCore::on_expired(const std::shared_ptr<RelayLink>& link, const std::string& json) {
  auto parsed = protocol::session_statistics_from_json(json);
  if (!parsed.has_value()) {
    spdlog::error("relay {}: unusable expired notice, ignored: {}", link->peer_ip(),
                  parsed.error().message);
    return;
  }
  auto& stats = parsed.value();
  const auto* session = sessions_.find(stats.call_id);
  if (!session) {
    spdlog::error("relay {}: expired notice for unknown call {}, ignored", link->peer_ip(),
                  stats.call_id);
    return;
  }
  if (session->relay_ip != link->peer_ip()) {
    spdlog::debug("relay {}: expired notice for call {} which lives on {}, ignored",
                  link->peer_ip(), stats.call_id, session->relay_ip);
    return;
  }
  if (session->expired) {
    spdlog::debug("call {}: second expired notice ignored", stats.call_id);
    return;
  }
  const auto dialog_id = session->dialog_id;
  const auto decision = annotate_expired(stats, dialog_id);
  spdlog::info("call {}: media session on relay {} expired ({})", stats.call_id, link->peer_ip(),
               stats.dispatcher->all_streams_ice.value_or(false) ? "all streams ICE"
                                                                 : "timed out");
  if (decision.account) {
    account(stats);
  }
  if (decision.end_dialog) {
    sessions_.mark_expired(stats.call_id, Clock::now());
    end_dialog(*dialog_id, stats.call_id);
  } else {
    sessions_.erase(stats.call_id);
  }
}

void DispatcherCore::on_closed(const std::shared_ptr<RelayLink>& link, const std::string& reason) {
  if (!relays_.remove(*link)) {
    spdlog::debug("relay {}: replaced link closed: {}", link->peer_ip(), reason);
    return;
  }
  const auto pinned = sessions_.count_on(link->peer_ip());
  spdlog::warn("relay {} disconnected: {}; its {} session(s) answer error until it reconnects",
               link->peer_ip(), reason, pinned);
  if (stopping_ || pinned == 0) {
    return;
  }
  auto timer = std::make_unique<asio::steady_timer>(executor_, options_.cleanup_dead_relays_after);
  std::weak_ptr<DispatcherCore*> alive = alive_;
  timer->async_wait([alive, ip = link->peer_ip()](const boost::system::error_code& error) {
    auto core = alive.lock();
    if (error || !core || !*core) {
      return;
    }
    auto& self = **core;
    const auto forgotten = self.sessions_.forget_relay(ip);
    spdlog::warn("relay {} did not come back: forgot its {} session(s)", ip, forgotten);
    self.dead_relay_timers_.erase(ip);
  });
  dead_relay_timers_.insert_or_assign(link->peer_ip(), std::move(timer));
}

asio::awaitable<void> DispatcherCore::reconcile(std::shared_ptr<RelayLink> link) {
  std::weak_ptr<DispatcherCore*> alive = alive_;
  const auto asked_at = Clock::now();
  auto answer = co_await link->request("sessions", {}, asked_at + options_.relay_timeout);
  auto core = alive.lock();
  if (!core || !*core || relays_.find(link->peer_ip()) != link) {
    co_return;
  }
  if (answer.kind != RelayAnswer::Kind::reply) {
    spdlog::warn("relay {}: no sessions list to reconcile with ({})", link->peer_ip(),
                 to_string(answer.kind));
    co_return;
  }
  auto list = protocol::session_list_from_json(answer.payload);
  if (!list.has_value()) {
    spdlog::warn("relay {}: unusable sessions list, not reconciled: {}", link->peer_ip(),
                 list.error().message);
    co_return;
  }
  std::set<std::string, std::less<>> present;
  for (const auto& session : list.value()) {
    present.insert(session.call_id);
  }
  for (const auto& call_id : sessions_.live_sessions_on(link->peer_ip(), asked_at)) {
    if (present.count(call_id) != 0) {
      continue;
    }
    const auto dialog_id = sessions_.find(call_id)->dialog_id;
    spdlog::warn("call {}: relay {} came back without it: statistics lost{}", call_id,
                 link->peer_ip(), dialog_id ? ", ending the dialog" : "");
    sessions_.erase(call_id);
    if (dialog_id) {
      end_dialog(*dialog_id, call_id);
    }
  }
}

void DispatcherCore::end_dialog(const std::string& dialog_id, const std::string& call_id) {
  if (terminator_ == nullptr) {
    spdlog::warn("call {}: dialog {} should be ended but no dialog termination is configured",
                 call_id, dialog_id);
    return;
  }
  terminator_->end_dialog(dialog_id, call_id);
}

void DispatcherCore::account(const protocol::SessionStatistics& stats) {
  if (accounting_) {
    accounting_(stats);
  }
}

void DispatcherCore::schedule_sweep() {
  if (stopping_) {
    return;
  }
  sweep_timer_.expires_after(
      std::min(options_.expired_sweep_interval, options_.cleanup_expired_sessions_after));
  std::weak_ptr<DispatcherCore*> alive = alive_;
  sweep_timer_.async_wait([alive](const boost::system::error_code& error) {
    auto core = alive.lock();
    if (error || !core || !*core) {
      return;
    }
    auto& self = **core;
    const auto purged = self.sessions_.purge_expired_before(
        Clock::now() - self.options_.cleanup_expired_sessions_after);
    if (purged > 0) {
      spdlog::warn("forgot {} expired session(s) the proxy never removed", purged);
    }
    self.schedule_sweep();
  });
}

}  // namespace mpx::dispatcher
