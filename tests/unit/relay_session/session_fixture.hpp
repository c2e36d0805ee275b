// Test fixture for relay/session: a fresh 40000.. pool, a manager on relay IP 203.0.113.5, a fake
// datapath (traffic per stream id) and helpers that build protocol B `update`/`remove` requests
// the way the dispatcher forwards them (empty-valued headers dropped).
#pragma once

#include "common/protocol/relay_request.hpp"
#include "relay/session/port_pool.hpp"
#include "relay/session/session_manager.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mpx::relay::session::test {

inline boost::asio::ip::address_v4 ip(const char* text) {
  return boost::asio::ip::make_address_v4(text);
}

// One protocol A/B `update` as OpenSIPS' module builds it.
struct Message {
  std::string type = "request";
  std::string call_id = "call-1";
  std::string cseq = "1";
  std::string from_tag = "caller-tag";
  std::string to_tag;
  std::string user_agent = "caller-ua";
  std::string signaling_ip = "198.51.100.7";
  std::string media;  // empty: no SDP
};

inline protocol::RelayRequest make_update(const Message& m) {
  protocol::RelayRequest r;
  r.command = "update";
  auto add = [&](std::string name, std::string value) {
    if (!value.empty()) {  // the dispatcher drops "name: " lines
      r.headers.push_back({std::move(name), std::move(value)});
    }
  };
  add("type", m.type);
  add("dialog_id", "5063766441986");
  add("call_id", m.call_id);
  add("cseq", m.cseq);
  add("from_uri", "alice@example.com");
  add("to_uri", "bob@example.net");
  add("from_tag", m.from_tag);
  add("to_tag", m.to_tag);
  add("user_agent", m.user_agent);
  add("signaling_ip", m.signaling_ip);
  add("media", m.media);
  return r;
}

inline protocol::RelayRequest make_remove(const std::string& call_id, const std::string& from_tag,
                                          const std::string& to_tag = {}) {
  protocol::RelayRequest r;
  r.command = "remove";
  r.headers.push_back({"call_id", call_id});
  r.headers.push_back({"from_tag", from_tag});
  if (!to_tag.empty()) {
    r.headers.push_back({"to_tag", to_tag});
  }
  return r;
}

// 2026-11-24 12:00:00 UTC plus `seconds`.
inline TimePoint at(double seconds) {
  return TimePoint{std::chrono::seconds{1795521600}} +
         std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(seconds));
}

template <class T>
std::vector<T> actions_of(const Actions& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (const auto* p = std::get_if<T>(&a)) {
      out.push_back(*p);
    }
  }
  return out;
}

class RelaySessionTest : public ::testing::Test {
 protected:
  static constexpr const char* kRelayIp = "203.0.113.5";

  RelaySessionTest() : RelaySessionTest(config::PortRange{40000, 60000}) {}
  explicit RelaySessionTest(config::PortRange range, ManagerSettings settings = {ip(kRelayIp), {}, {}})
      : pool_(range, [this](std::uint16_t port) { return !unbindable_.contains(port); },
              [this](std::uint16_t port) { released_.push_back(port); }),
        manager_(std::move(settings), pool_,
                 [this](StreamId id) {
                   ++traffic_queries_;
                   auto it = traffic_.find(id);
                   return it == traffic_.end() ? StreamTraffic{} : it->second;
                 }) {}


  // The update's payload; fails the test on an error.
  std::string update(const Message& m, double when, Actions* actions = nullptr) {
    auto r = manager_.update(make_update(m), "dispatcher-1", at(when));
    EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().message);
    if (!r.has_value()) {
      return "<error>";
    }
    if (actions != nullptr) {
      *actions = r.value().actions;
    }
    last_actions_ = r.value().actions;
    return r.value().payload();
  }

  std::string update_error(const Message& m, double when) {
    auto r = manager_.update(make_update(m), "dispatcher-1", at(when));
    EXPECT_FALSE(r.has_value()) << "payload " << r.value().payload();
    return r.has_value() ? "" : r.error().message;
  }

  protocol::SessionStatistics remove(const std::string& call_id, const std::string& from_tag,
                                     const std::string& to_tag, double when) {
    auto r = manager_.remove(make_remove(call_id, from_tag, to_tag), at(when));
    EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().message);
    if (!r.has_value()) {
      return {};
    }
    last_actions_ = r.value().actions;
    return r.value().statistics;
  }

  // Stream ids opened by the last call, in order.
  std::vector<StreamId> opened() const {
    std::vector<StreamId> ids;
    for (const auto& o : actions_of<StreamOpened>(last_actions_)) {
      ids.push_back(o.id);
    }
    return ids;
  }

  std::set<std::uint16_t> unbindable_;
  std::vector<std::uint16_t> released_;
  std::map<StreamId, StreamTraffic> traffic_;
  int traffic_queries_ = 0;
  Actions last_actions_;
  PortPool pool_;
  SessionManager manager_;
};

}  // namespace mpx::relay::session::test
