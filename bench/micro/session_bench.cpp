// Micro-benchmarks of the relay's session logic (relay/session): one whole call through the
// SessionManager (offer, answer, remove: what the relay does per call besides IO) with 0, 1,000
// and 10,000 other calls live, and one pair taken from and given back to the PortPool when the
// pool is empty and 90 % full. Each has a BM_Baseline_<Group> measured in the same run with the
// same argument: the least a table of calls could do (std::unordered_map insert and erase of the
// call's key) and the least a pool of ports could do (std::vector pop_back and push_back), so the
// ratio is what mpx's bookkeeping adds (bench/README.md).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/protocol/relay_request.hpp"
#include "relay/session/port_pool.hpp"
#include "relay/session/session_manager.hpp"

namespace {

namespace rs = mpx::relay::session;

// The widest even range a uint16 allows: 32,254 pairs, 16,127 one-stream calls.
constexpr mpx::config::PortRange kWideRange{1024, 65534};

rs::TimePoint at(double seconds) {
  return rs::TimePoint{std::chrono::seconds{1795521600}} +
         std::chrono::duration_cast<rs::TimePoint::duration>(
             std::chrono::duration<double>(seconds));
}

// An `update` as the dispatcher forwards OpenSIPS' (tests/unit/relay_session/session_fixture.hpp).
mpx::protocol::RelayRequest update(const std::string& type, const std::string& call_id,
                                   const std::string& to_tag, const std::string& media) {
  mpx::protocol::RelayRequest r;
  r.command = "update";
  r.headers = {{"type", type},
               {"dialog_id", "5063766441986"},
               {"call_id", call_id},
               {"cseq", "1"},
               {"from_uri", "alice@example.com"},
               {"to_uri", "bob@example.net"},
               {"from_tag", "caller-tag"},
               {"user_agent", type == "request" ? "caller-ua" : "callee-ua"},
               {"signaling_ip", type == "request" ? "198.51.100.7" : "192.0.2.20"},
               {"media", media}};
  if (!to_tag.empty()) {
    r.headers.push_back({"to_tag", to_tag});
  }
  return r;
}

struct Call {
  mpx::protocol::RelayRequest offer;
  mpx::protocol::RelayRequest answer;
  mpx::protocol::RelayRequest remove;
};

Call call(const std::string& call_id) {
  Call c;
  c.offer = update("request", call_id, "", "audio:192.168.1.10:50000:sendrecv:ice=no");
  c.answer = update("reply", call_id, "callee-tag", "audio:192.0.2.20:30000:sendrecv:ice=no");
  c.remove.command = "remove";
  c.remove.headers = {{"call_id", call_id}, {"from_tag", "caller-tag"}, {"to_tag", "callee-tag"}};
  return c;
}

struct Relay {
  rs::PortPool pool{kWideRange};
  rs::SessionManager manager{{boost::asio::ip::make_address_v4("203.0.113.5"), {}, {}}, pool,
                             [](rs::StreamId) { return rs::StreamTraffic{}; }};
};

// Offer, answer and remove of one call while state.range(0) other calls stay up.
void BM_SessionManager_CallSetupTeardown(benchmark::State& state) {
  Relay relay;
  const auto live = static_cast<int>(state.range(0));
  for (int i = 0; i < live; ++i) {
    const Call other = call("live-" + std::to_string(i));
    if (!relay.manager.update(other.offer, "dispatcher-1", at(0)).has_value() ||
        !relay.manager.update(other.answer, "dispatcher-1", at(0)).has_value()) {
      state.SkipWithError("could not set up the live calls");
      return;
    }
  }
  const Call measured = call("measured-call@192.168.1.10");
  double now = 1;
  for (auto _ : state) {
    auto offer = relay.manager.update(measured.offer, "dispatcher-1", at(now));
    auto answer = relay.manager.update(measured.answer, "dispatcher-1", at(now));
    auto removed = relay.manager.remove(measured.remove, at(now + 60));
    if (!offer.has_value() || !answer.has_value() || !removed.has_value()) {
      state.SkipWithError("the measured call failed");
      return;
    }
    benchmark::DoNotOptimize(removed);
    now += 1;
  }
  state.counters["live_calls"] = static_cast<double>(live);
}
BENCHMARK(BM_SessionManager_CallSetupTeardown)->Arg(0)->Arg(1000)->Arg(10000);

// The baseline of a call table: insert and erase the call's key, state.range(0) others present.
void BM_Baseline_SessionManager(benchmark::State& state) {
  std::unordered_map<std::string, std::uint64_t> table;
  const auto live = static_cast<int>(state.range(0));
  for (int i = 0; i < live; ++i) {
    table.emplace("live-" + std::to_string(i), static_cast<std::uint64_t>(i));
  }
  const std::string key = "measured-call@192.168.1.10";
  for (auto _ : state) {
    auto inserted = table.emplace(key, 1);
    benchmark::DoNotOptimize(inserted);
    table.erase(key);
  }
}
BENCHMARK(BM_Baseline_SessionManager)->Arg(0)->Arg(1000)->Arg(10000);

// Pairs handed out before measuring: state.range(0) percent of the pool.
std::size_t pairs_at(int percent) {
  const std::size_t pairs = (kWideRange.end - kWideRange.start) / 2;
  return pairs * static_cast<std::size_t>(percent) / 100;
}

// One pair allocated and released, the pool state.range(0) percent full.
void BM_PortPool_AllocateRelease(benchmark::State& state) {
  rs::PortPool pool(kWideRange);
  const std::size_t held = pairs_at(static_cast<int>(state.range(0)));
  for (std::size_t i = 0; i < held; ++i) {
    if (!pool.allocate_pair().has_value()) {
      state.SkipWithError("could not fill the pool");
      return;
    }
  }
  for (auto _ : state) {
    auto pair = pool.allocate_pair();
    if (!pair.has_value()) {
      state.SkipWithError("pool exhausted");
      return;
    }
    pool.release_pair(pair.value());
  }
  state.counters["in_use"] = static_cast<double>(pool.in_use_count());
}
BENCHMARK(BM_PortPool_AllocateRelease)->Arg(0)->Arg(90);

// The baseline of a port pool: pop a port off a vector of the free ones and push it back.
void BM_Baseline_PortPool(benchmark::State& state) {
  std::vector<std::uint16_t> free_ports;
  const std::size_t pairs = (kWideRange.end - kWideRange.start) / 2;
  const std::size_t held = pairs_at(static_cast<int>(state.range(0)));
  for (std::size_t i = held; i < pairs; ++i) {
    free_ports.push_back(static_cast<std::uint16_t>(kWideRange.start + 2 * i));
  }
  for (auto _ : state) {
    const std::uint16_t port = free_ports.back();
    free_ports.pop_back();
    benchmark::DoNotOptimize(port);
    free_ports.push_back(port);
  }
}
BENCHMARK(BM_Baseline_PortPool)->Arg(0)->Arg(90);

}  // namespace

BENCHMARK_MAIN();
