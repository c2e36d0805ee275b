// DispatcherLinks (see dispatcher_links.hpp). A resolution round runs on a detached thread (a DNS
// lookup may block for seconds); its result is posted back through a Gate that stop() closes, so
// a round finishing after stop() or destruction touches nothing.
#include "relay/link/dispatcher_links.hpp"

#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "relay/link/libresolv_dns_client.hpp"

namespace mpx::relay::link {

namespace asio = boost::asio;

struct DispatcherLinks::Gate {
  std::mutex mutex;
  bool open = true;
};

namespace {

std::string entry_name(const config::DispatcherAddress& entry) {
  return entry.host + ":" + std::to_string(entry.port);
}

bool needs_dns(const std::vector<config::DispatcherAddress>& entries) {
  for (const auto& entry : entries) {
    if (!is_ip_literal(entry.host)) {
      return true;
    }
  }
  return false;
}

}  // namespace

DispatcherLinks::DispatcherLinks(asio::any_io_executor executor, asio::ssl::context& tls,
                                 DispatcherLinksOptions options, std::shared_ptr<DnsClient> dns)
    : executor_(std::move(executor)),
      tls_(tls),
      options_(std::move(options)),
      dns_(std::move(dns)),
      dns_timer_(executor_),
      gate_(std::make_shared<Gate>()),
      last_resolved_(options_.dispatchers.size()) {
  if (!dns_) {
    dns_ = std::make_shared<LibresolvDnsClient>();
  }
}

DispatcherLinks::~DispatcherLinks() { stop(); }

void DispatcherLinks::start(RequestHandler& handler, OwnsSessions owns_sessions) {
  if (started_ || stopped_) {
    return;
  }
  started_ = true;
  handler_ = &handler;
  owns_sessions_ = std::move(owns_sessions);
  if (options_.dispatchers.empty()) {
    spdlog::warn("no dispatchers configured: the relay will not receive any request");
    return;
  }
  if (!needs_dns(options_.dispatchers)) {
    // Only literals: resolved once, here, and never re-resolved.
    RoundResult results;
    for (const auto& entry : options_.dispatchers) {
      results.push_back(resolve_dispatcher(entry, *dns_));
    }
    apply(std::move(results));
    return;
  }
  resolve_round();
}

void DispatcherLinks::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  {
    std::lock_guard lock(gate_->mutex);
    gate_->open = false;
  }
  dns_timer_.cancel();
  for (auto& [id, entry] : links_) {
    entry.link->stop();
  }
  links_.clear();
}

void DispatcherLinks::resolve_round() {
  if (stopped_) {
    return;
  }
  // The next round is timed from the start of this one; rounds never overlap.
  schedule_next_round();
  if (resolving_) {
    spdlog::warn("the previous dispatcher DNS lookup is still running: round skipped");
    return;
  }
  resolving_ = true;
  try {
    std::thread([gate = gate_, dns = dns_, entries = options_.dispatchers, executor = executor_,
                 this]() {
      RoundResult results;
      for (const auto& entry : entries) {
        results.push_back(resolve_dispatcher(entry, *dns));
      }
      std::lock_guard lock(gate->mutex);
      if (!gate->open) {
        return;
      }
      asio::post(executor, [gate, this, results = std::move(results)]() mutable {
        if (gate->open) {  // read on the io thread, where stop() writes it
          resolving_ = false;
          apply(std::move(results));
        }
      });
    }).detach();
  } catch (const std::exception& e) {
    resolving_ = false;
    spdlog::error("cannot start the dispatcher DNS lookup: {}", e.what());
  }
}

void DispatcherLinks::schedule_next_round() {
  if (options_.dns_check_interval <= std::chrono::steady_clock::duration::zero()) {
    return;
  }
  dns_timer_.expires_after(options_.dns_check_interval);
  dns_timer_.async_wait([this, gate = gate_](const boost::system::error_code& error) {
    if (!error && gate->open) {
      resolve_round();
    }
  });
}

void DispatcherLinks::apply(RoundResult results) {
  if (stopped_) {
    return;
  }
  std::set<DispatcherId> wanted;
  std::map<DispatcherId, std::string> names;
  for (std::size_t i = 0; i < results.size() && i < options_.dispatchers.size(); ++i) {
    const auto& entry = options_.dispatchers[i];
    auto& result = results[i];
    if (!result) {
      spdlog::warn("dispatcher {}: {}; keeping {}", entry_name(entry), result.error().message,
                   last_resolved_[i] ? last_resolved_[i]->to_string() : "nothing");
    } else {
      if (!result.value() && last_resolved_[i]) {
        spdlog::warn("dispatcher {} is no longer in DNS", entry_name(entry));
      } else if (!result.value() && first_round_) {
        spdlog::warn("dispatcher {}: no address in DNS", entry_name(entry));
      } else if (last_resolved_[i] && *last_resolved_[i] != *result.value()) {
        spdlog::info("dispatcher {} now resolves to {}", entry_name(entry),
                     result.value()->to_string());
      }
      last_resolved_[i] = result.value();
    }
    if (last_resolved_[i]) {
      wanted.insert(*last_resolved_[i]);
      names.emplace(*last_resolved_[i],
                    is_ip_literal(entry.host) ? std::string() : entry_name(entry));
    }
  }
  for (const auto& id : wanted) {
    auto found = links_.find(id);
    if (found == links_.end()) {
      auto link =
          std::make_shared<DispatcherLink>(executor_, tls_, id, names[id], options_.link, *handler_);
      links_.emplace(id, Entry{link, false});
      link->start();
    } else if (found->second.orphan) {
      found->second.orphan = false;
      spdlog::info("dispatcher {} is back in the configuration: kept", id.to_string());
    }
  }
  for (auto& [id, entry] : links_) {
    if (!entry.orphan && wanted.count(id) == 0) {
      entry.orphan = true;
      spdlog::info("dispatcher {} is no longer configured: disconnecting once its sessions end",
                   id.to_string());
    }
  }
  first_round_ = false;
  release_orphans();
  if (resolved_hook_) {
    resolved_hook_();
  }
}

void DispatcherLinks::release_orphans() {
  for (auto it = links_.begin(); it != links_.end();) {
    if (it->second.orphan && !(owns_sessions_ && owns_sessions_(it->first))) {
      spdlog::info("dispatcher {} has no sessions left: disconnecting", it->first.to_string());
      it->second.link->stop();
      it = links_.erase(it);
    } else {
      ++it;
    }
  }
}

bool DispatcherLinks::send_expired(const DispatcherId& dispatcher, std::string_view json) {
  auto found = links_.find(dispatcher);
  if (found == links_.end()) {
    spdlog::warn("dispatcher {} is gone: expired session statistics lost", dispatcher.to_string());
    return false;
  }
  return found->second.link->send_expired(json);
}

std::size_t DispatcherLinks::pending_writes() const {
  std::size_t pending = 0;
  for (const auto& [id, entry] : links_) {
    pending += entry.link->pending_writes();
  }
  return pending;
}

std::size_t DispatcherLinks::connected_count() const {
  std::size_t count = 0;
  for (const auto& [id, entry] : links_) {
    if (entry.link->connected()) {
      ++count;
    }
  }
  return count;
}

std::vector<DispatcherId> DispatcherLinks::dispatchers() const {
  std::vector<DispatcherId> ids;
  for (const auto& [id, entry] : links_) {
    ids.push_back(id);
  }
  return ids;
}

std::shared_ptr<DispatcherLink> DispatcherLinks::link(const DispatcherId& dispatcher) const {
  auto found = links_.find(dispatcher);
  return found == links_.end() ? nullptr : found->second.link;
}

}  // namespace mpx::relay::link
