// Traffic sampling (compat spec 5.14): the byte total the manager reports and the bps it yields.
#include "relay/session/traffic_sampler.hpp"
#include "tests/unit/relay_session/session_fixture.hpp"

#include <gtest/gtest.h>

namespace mpx::relay::session::test {
namespace {

TEST(RelaySessionTrafficSampler, RateOfTheLastPeriod) {
  TrafficSampler sampler;
  EXPECT_EQ(sampler.bps_relayed(), 0.0);
  EXPECT_DOUBLE_EQ(sampler.sample(1500, std::chrono::seconds{15}), 800.0);
  EXPECT_DOUBLE_EQ(sampler.sample(1500 + 3000, std::chrono::seconds{15}), 1600.0);
  EXPECT_DOUBLE_EQ(sampler.sample(100, std::chrono::seconds{15}), 0.0);  // went backwards
  EXPECT_DOUBLE_EQ(sampler.sample(200, std::chrono::seconds{0}), 0.0);   // no period
  EXPECT_DOUBLE_EQ(sampler.bps_relayed(), 0.0);
}

TEST_F(RelaySessionTest, RelayedBytesKeepCountingAfterStreamsAndSessionsEnd) {
  Message inv;
  inv.media = "audio:192.168.1.10:50000:sendrecv:ice=no,video:192.168.1.10:50002:sendrecv:ice=no";
  update(inv, 0);
  const auto ids = opened();
  Message ok;
  ok.type = "reply";
  ok.to_tag = "callee-tag";
  ok.media = "audio:192.0.2.20:30000:sendrecv:ice=no,video:192.0.2.20:30002:sendrecv:ice=no";
  update(ok, 1);
  traffic_[ids[0]] = StreamTraffic{100, 200, 1, 2, {}, {}};
  traffic_[ids[1]] = StreamTraffic{1000, 2000, 1, 2, {}, {}};
  EXPECT_EQ(manager_.relayed_bytes(), 3300U);

  // Video is dropped by a re-offer and forgotten after its answer: its bytes still count.
  Message reinvite = inv;
  reinvite.cseq = "2";
  reinvite.media = "audio:192.168.1.10:50000:sendrecv:ice=no";
  update(reinvite, 5);
  Message reok = ok;
  reok.cseq = "2";
  reok.media = "audio:192.0.2.20:30000:sendrecv:ice=no";
  update(reok, 6);
  traffic_.erase(ids[1]);  // the datapath forgot it
  EXPECT_EQ(manager_.relayed_bytes(), 3300U);

  traffic_[ids[0]] = StreamTraffic{150, 250, 1, 2, {}, {}};
  remove("call-1", "caller-tag", "callee-tag", 10);
  traffic_.clear();
  EXPECT_EQ(manager_.relayed_bytes(), 3400U);
}

}  // namespace
}  // namespace mpx::relay::session::test
