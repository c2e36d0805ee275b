// FakeDns: a DnsClient fed by the test (SRV targets and A records per name, or a failure), safe to
// call from the resolver's worker thread while the test changes it. Counts lookups.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "relay/link/dispatcher_resolution.hpp"

namespace mpx::relay::link::testing {

class FakeDns final : public DnsClient {
 public:
  Result<std::vector<std::string>> srv_targets(const std::string& name) override {
    std::lock_guard lock(mutex_);
    ++lookups;
    if (failing_.count(name) != 0) {
      return Error{"SERVFAIL"};
    }
    auto found = srv_.find(name);
    return found == srv_.end() ? std::vector<std::string>{} : found->second;
  }
  Result<std::vector<boost::asio::ip::address_v4>> a_records(const std::string& name) override {
    if (const int delay = slow_ms.load(); delay > 0) {  // a DNS server that takes its time
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    std::lock_guard lock(mutex_);
    ++lookups;
    if (failing_.count(name) != 0) {
      return Error{"SERVFAIL"};
    }
    auto found = a_.find(name);
    return found == a_.end() ? std::vector<boost::asio::ip::address_v4>{} : found->second;
  }

  void set_srv(const std::string& name, std::vector<std::string> targets) {
    std::lock_guard lock(mutex_);
    srv_[name] = std::move(targets);
  }
  void set_a(const std::string& name, const std::vector<std::string>& addresses) {
    std::lock_guard lock(mutex_);
    auto& records = a_[name];
    records.clear();
    for (const auto& address : addresses) {
      records.push_back(boost::asio::ip::make_address_v4(address));
    }
  }
  void remove(const std::string& name) {
    std::lock_guard lock(mutex_);
    srv_.erase(name);
    a_.erase(name);
  }
  void set_failing(const std::string& name, bool failing) {
    std::lock_guard lock(mutex_);
    if (failing) {
      failing_.insert(name);
    } else {
      failing_.erase(name);
    }
  }

  std::atomic<int> lookups{0};
  std::atomic<int> slow_ms{0};

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> srv_;
  std::map<std::string, std::vector<boost::asio::ip::address_v4>> a_;
  std::set<std::string> failing_;
};

}  // namespace mpx::relay::link::testing
