// The restore paths a restarted relay relies on: PortPool::claim takes exactly the persisted
// pair (or refuses), SessionManager's snapshot/restore rebuilds a session whose statistics,
// ports and later `remove` match the original, and BpfDatapath::claim_adopted takes over an
// adopted flow in the relay's orientation with its counters (testing mode, no kernel).
#include <gtest/gtest.h>

#include "relay/recovery/state_file.hpp"
#include "tests/unit/relay_session/session_fixture.hpp"
#include "userspace/bpf/bpf_datapath.hpp"
#include "userspace/bpf/memory_flow_maps.hpp"

namespace mpx::relay::session::test {
namespace {

TEST(PortPoolClaimTest, TakesThatPairOnceAndRefusesOthers) {
  std::vector<std::uint16_t> bound;
  PortPool pool(config::PortRange{40000, 40010},
                [&](std::uint16_t port) {
                  bound.push_back(port);
                  return port != 40008;
                });
  ASSERT_TRUE(pool.claim(40004).has_value());
  EXPECT_TRUE(pool.in_use(40004));
  EXPECT_EQ(bound, std::vector<std::uint16_t>{40004});
  EXPECT_FALSE(pool.claim(40004).has_value());  // already in use
  EXPECT_FALSE(pool.claim(40005).has_value());  // not an even port of a pair
  EXPECT_FALSE(pool.claim(50000).has_value());  // outside the range
  EXPECT_FALSE(pool.claim(40008).has_value());  // cannot be bound: stays free
  EXPECT_FALSE(pool.in_use(40008));
  // Allocation never hands out the claimed pair.
  for (int i = 0; i < 4; ++i) {
    auto pair = pool.allocate_pair();
    if (pair) {
      EXPECT_NE(pair.value(), 40004);
    }
  }
}

class SessionRestoreTest : public RelaySessionTest {};

TEST_F(SessionRestoreTest, ARestoredSessionAnswersAsTheOriginal) {
  Message offer;
  offer.media = "audio:192.168.1.10:50000:sendrecv:ice=no";
  const std::string offered = update(offer, 0);
  Message answer;
  answer.type = "reply";
  answer.to_tag = "callee-tag";
  answer.user_agent = "callee-ua";
  answer.signaling_ip = "192.0.2.20";
  answer.media = "audio:192.0.2.20:30000:sendrecv:ice=no";
  const std::string answered = update(answer, 1);
  ASSERT_EQ(manager_.session_count(), 1U);
  const StreamId stream_id = manager_.snapshots()[0].streams[0].id;
  traffic_[stream_id] = StreamTraffic{1000, 2000, 10, 20, Endpoint{ip("192.168.1.10"), 50000},
                                      Endpoint{ip("192.0.2.20"), 30000}};

  // Through the state file's encoding, into a fresh pool and manager (the restarted relay).
  recovery::RelayState state{"xdp", {}};
  for (auto& snapshot : manager_.snapshots()) {
    state.sessions.push_back({std::move(snapshot), {}});
  }
  auto parsed = recovery::parse_state(recovery::to_json(state));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  const auto before = protocol::to_json(manager_.sessions(at(5)));

  std::vector<std::uint16_t> bound;
  PortPool pool(config::PortRange{40000, 60000}, [&](std::uint16_t port) {
    bound.push_back(port);
    return true;
  });
  SessionManager restarted(ManagerSettings{ip(kRelayIp), {}, {}}, pool,
                           [this](StreamId id) { return traffic_[id]; });
  ASSERT_TRUE(restarted.restore(parsed.value().sessions[0].session).has_value());
  EXPECT_FALSE(restarted.restore(parsed.value().sessions[0].session).has_value());  // twice
  EXPECT_EQ(protocol::to_json(restarted.sessions(at(5))), before);
  EXPECT_EQ(restarted.has_session_from("dispatcher-1"), true);
  // The offer's and answer's ports were bound again and are in use.
  ASSERT_EQ(bound.size(), 2U);
  for (const auto port : bound) {
    EXPECT_TRUE(pool.in_use(port));
  }
  // A retransmitted answer gets the same ports; remove returns the counters and frees them.
  auto again = restarted.update(make_update(answer), "dispatcher-1", at(6));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again.value().payload(), answered);
  auto removed = restarted.remove(make_remove("call-1", "caller-tag", "callee-tag"), at(7));
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  ASSERT_EQ(removed.value().statistics.streams.size(), 1U);
  EXPECT_EQ(removed.value().statistics.streams[0].caller_bytes, 1000U);
  EXPECT_EQ(removed.value().statistics.streams[0].callee_packets, 20U);
  EXPECT_EQ(removed.value().statistics.duration, 6);
  EXPECT_EQ(pool.in_use_count(), 0U);
  // A new stream id never collides with a restored one.
  Message next;
  next.call_id = "call-2";
  next.media = "audio:192.168.1.10:52000:sendrecv:ice=no";
  ASSERT_TRUE(restarted.update(make_update(next), "dispatcher-1", at(8)).has_value());
  EXPECT_GT(restarted.snapshots()[0].streams[0].id, stream_id);
}

TEST_F(SessionRestoreTest, PortsInUseRefuseTheRestoreAndReleaseWhatWasClaimed) {
  Message offer;
  offer.media = "audio:192.168.1.10:50000:sendrecv:ice=no";
  update(offer, 0);
  const auto snapshot = manager_.snapshots()[0];
  std::vector<std::uint16_t> released;
  PortPool pool(
      config::PortRange{40000, 60000},
      [&](std::uint16_t port) { return port != snapshot.streams[0].callee_local.port; },
      [&](std::uint16_t port) { released.push_back(port); });
  SessionManager restarted(ManagerSettings{ip(kRelayIp), {}, {}}, pool,
                           [](StreamId) { return StreamTraffic{}; });
  EXPECT_FALSE(restarted.restore(snapshot).has_value());
  EXPECT_EQ(restarted.session_count(), 0U);
  EXPECT_EQ(pool.in_use_count(), 0U);
  EXPECT_EQ(released, std::vector<std::uint16_t>{snapshot.streams[0].caller_local.port});
}

datapath::Endpoint udp(const char* text, std::uint16_t port) { return {ip(text), port}; }

TEST(BpfClaimAdoptedTest, TakesTheFlowInTheRelaysOrientationWithItsCounters) {
  datapath::BpfDatapath::Options options;
  options.program = datapath::BpfDatapath::Program::tc;
  options.interfaces = {"caller0", "callee0"};
  options.testing = true;
  options.max_flows = 64;
  options.pin_dir = "/sys/fs/bpf/mpx-unit-claim";
  // The relay's flow has its caller side on the HIGHER port: adoption reverses it.
  const datapath::Flow flow{udp("10.1.0.10", 5000), udp("203.0.113.1", 40006),
                            udp("203.0.113.1", 40002), udp("10.2.0.20", 6000)};
  const datapath::Flow reversed{flow.callee_remote, flow.callee_local, flow.caller_local,
                                flow.caller_remote};
  const datapath::Flow other{udp("10.1.0.11", 5000), udp("203.0.113.1", 40010),
                             udp("203.0.113.1", 40012), udp("10.2.0.21", 6000)};
  {
    auto first = datapath::BpfDatapath::open(options);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    ASSERT_TRUE(first.value()->install(flow).has_value());
    ASSERT_TRUE(first.value()->install(other).has_value());
    ASSERT_TRUE(first.value()->testing_maps()->forward(
        datapath::bpf::entries_of(flow).caller.key, 7, 700, 1'000, MPX_STAT_FORWARDED_REDIRECT));
    first.value()->keep_pinned(true);  // as a kill -9 leaves it
  }
  auto second = datapath::BpfDatapath::open(options);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  auto& datapath = *second.value();
  const auto adopted = datapath.adopted();
  ASSERT_NE(std::find(adopted.begin(), adopted.end(), reversed), adopted.end());
  EXPECT_FALSE(datapath.counters(flow).has_value());  // not in the relay's orientation yet

  ASSERT_TRUE(datapath.claim_adopted(flow).has_value());
  ASSERT_TRUE(datapath.claim_adopted(flow).has_value());  // idempotent
  auto counted = datapath.counters(flow);
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  EXPECT_EQ(counted.value().caller_packets, 7U);  // caller_remote -> callee_remote
  EXPECT_EQ(counted.value().caller_bytes, 7U * 700U);  // forward() takes bytes per packet
  EXPECT_EQ(counted.value().callee_packets, 0U);
  EXPECT_FALSE(datapath.counters(reversed).has_value());

  const datapath::Flow gone{udp("10.1.0.12", 5000), udp("203.0.113.1", 40020),
                            udp("203.0.113.1", 40022), udp("10.2.0.22", 6000)};
  auto refused = datapath.claim_adopted(gone);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("not in the flow map"), std::string::npos);

  auto removed = datapath.remove(flow);
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_EQ(removed.value().caller_packets, 7U);
  ASSERT_TRUE(datapath.remove(other).has_value());
  EXPECT_EQ(datapath.testing_maps()->size(), 0U);
}

}  // namespace
}  // namespace mpx::relay::session::test
