// Random call sequences (fixed seeds) through the manager: whatever the order of offers, answers,
// re-offers, port-0 streams, bad CSeqs, expiries and removes, no port leaks and the stream
// index stays consistent; at the end every port is back in the pool.
#include "tests/unit/relay_session/session_fixture.hpp"

#include <gtest/gtest.h>

#include <random>

namespace mpx::relay::session::test {
namespace {

class RelaySessionRandomCalls : public ::testing::TestWithParam<unsigned> {};

std::size_t ports_held(const SessionManager& manager, const std::vector<std::string>& calls) {
  std::size_t pairs = 0;
  for (const auto& call : calls) {
    // A session may have been created by either party's tag.
    for (const char* tag : {"caller-tag", "callee-tag"}) {
      const Session* session = manager.find_session(call, tag, std::nullopt);
      if (session == nullptr || session->key().second != tag) {
        continue;
      }
      for (const auto& [id, stream] : session->streams()) {
        EXPECT_EQ(manager.find_stream(id), &stream);
        if (stream.alive && stream.has_ports) {
          pairs += 2;
        }
      }
    }
  }
  return pairs;
}

TEST_P(RelaySessionRandomCalls, NoPortLeaksAndConsistentIndex) {
  std::mt19937 rng(GetParam());
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  // A small pool so that exhaustion happens too.
  PortPool pool(config::PortRange{40000, 40040},
                [&](std::uint16_t) { return pick(20) != 0; });  // 5% bind failures
  std::map<StreamId, StreamTraffic> traffic;
  SessionManager manager({ip("203.0.113.5"), {}, {}}, pool, [&](StreamId id) {
    return traffic.contains(id) ? traffic[id] : StreamTraffic{};
  });
  const std::vector<std::string> calls{"c1", "c2", "c3", "c4"};
  std::map<std::string, unsigned> cseq;
  std::vector<StreamId> seen;
  const char* types[] = {"audio", "video", "image"};
  const char* directions[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
  int exhausted = 0;
  std::size_t removed = 0;

  for (int step = 0; step < 3000; ++step) {
    const TimePoint now = at(step);
    const std::string& call = calls[static_cast<std::size_t>(pick(4))];
    const int op = pick(10);
    if (op < 6) {
      Message m;
      m.call_id = call;
      const bool callee = pick(3) == 0;
      m.from_tag = callee ? "callee-tag" : "caller-tag";
      m.to_tag = callee ? "caller-tag" : (pick(2) ? "callee-tag" : "");
      m.type = pick(2) ? "request" : "reply";
      unsigned& c = cseq[call + m.from_tag];
      if (m.type == "request" && pick(2)) {
        ++c;
      }
      m.cseq = std::to_string(c + static_cast<unsigned>(pick(2)));
      const int streams = pick(4);
      for (int i = 0; i < streams; ++i) {
        m.media += (i ? "," : "") + std::string{types[pick(3)]} + ":" +
                   (pick(5) ? "192.0.2." + std::to_string(pick(3) + 1) : "0.0.0.0") + ":" +
                   std::to_string(pick(4) ? 30000 + 2 * pick(3) : 0) + ":" +
                   directions[pick(4)] + ":ice=" + (pick(2) ? "yes" : "no");
      }
      auto r = manager.update(make_update(m), "d", now);
      if (!r.has_value() && r.error().message == kPortsExhausted) {
        ++exhausted;
      }
      if (r.has_value()) {
        for (const auto& o : actions_of<StreamOpened>(r.value().actions)) {
          seen.push_back(o.id);
          traffic[o.id] = StreamTraffic{static_cast<std::uint64_t>(step), 1, 1, 1, {}, {}};
        }
      }
    } else if (op < 8 && !seen.empty()) {
      const StreamId id = seen[static_cast<std::size_t>(pick(static_cast<int>(seen.size())))];
      if (pick(2)) {
        manager.rtp_expired(id, ExpiryReason::no_traffic, 90, now);
      } else {
        manager.media_seen(id, pick(2) ? Party::caller : Party::callee,
                           static_cast<std::uint8_t>(pick(128)), now);
      }
    } else if (op == 8) {
      removed += manager.remove(make_remove(call, pick(2) ? "caller-tag" : "callee-tag",
                                       pick(2) ? "caller-tag" : "callee-tag"),
                           now)
                     .has_value();
    } else {
      for (const auto& s : manager.sessions(now)) {
        EXPECT_LE(s.streams.size(), 2U * protocol::kMaxMediaStreams);
      }
    }
    ASSERT_EQ(ports_held(manager, calls), pool.in_use_count()) << "step " << step;
    ASSERT_EQ(pool.in_use_count() + pool.free_count() + pool.bad_count(), 20U);
  }
  // The walk must have reached the interesting states, or it proves nothing.
  EXPECT_GT(seen.size(), 100U);
  EXPECT_GT(exhausted, 0);
  EXPECT_GT(removed, 10U);
  manager.expire_all(at(4000));
  EXPECT_EQ(pool.in_use_count(), 0U);
  EXPECT_EQ(manager.session_count(), 0U);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RelaySessionRandomCalls, ::testing::Values(1U, 2U, 3U, 42U, 2026U));

}  // namespace
}  // namespace mpx::relay::session::test
