// UserspaceDatapath: the Datapath interface over MediaSockets (name, install, counters, flows,
// remove, and errors passed through), used the way the relay uses any back-end.
#include "userspace/socket/userspace_datapath.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "tests/unit/socket_datapath/socket_fixture.hpp"

namespace mpx::datapath::test {
namespace {

using UserspaceDatapathTest = SocketTest;

TEST_F(UserspaceDatapathTest, ForwardsThroughTheDatapathInterface) {
  Peer caller("127.0.0.2");
  Peer callee("127.0.0.3");
  const Flow flow{caller.endpoint(), open_relay_port(), open_relay_port(), callee.endpoint()};
  std::unique_ptr<Datapath> datapath = std::make_unique<UserspaceDatapath>(sockets_);
  EXPECT_EQ(datapath->name(), "userspace");

  ASSERT_TRUE(datapath->install(flow));
  EXPECT_EQ(datapath->flows(), std::vector<Flow>{flow});
  EXPECT_FALSE(datapath->install(flow)) << "a second install of the same flow overlaps";

  caller.send(flow.caller_local, Bytes(80, 1));
  callee.send(flow.callee_local, Bytes(20, 2));
  ASSERT_TRUE(pump_until(
      [&] { return callee.received().size() == 1 && caller.received().size() == 1; },
      {&caller, &callee}));
  auto counters = datapath->counters(flow);
  ASSERT_TRUE(counters);
  // Whole IPv4 datagrams, as conntrack counts them: payload + 28 bytes of IP and UDP headers.
  EXPECT_EQ(counters.value().caller_bytes, 80u + 28u);
  EXPECT_EQ(counters.value().callee_bytes, 20u + 28u);

  auto last = datapath->remove(flow);
  ASSERT_TRUE(last);
  EXPECT_EQ(last.value().caller_packets, 1u);
  EXPECT_EQ(last.value().callee_packets, 1u);
  EXPECT_TRUE(datapath->flows().empty());
  EXPECT_FALSE(datapath->remove(flow));
  EXPECT_FALSE(datapath->counters(flow));
}

TEST_F(UserspaceDatapathTest, InstallNeedsOpenSockets) {
  UserspaceDatapath datapath(sockets_);
  const Flow flow{endpoint("127.0.0.2", 5000), endpoint("127.0.0.1", 40000),
                  endpoint("127.0.0.1", 40002), endpoint("127.0.0.3", 6000)};
  auto installed = datapath.install(flow);
  ASSERT_FALSE(installed);
  EXPECT_EQ(installed.error().message,
            "userspace datapath: install 127.0.0.2:5000 -> 127.0.0.1:40000 / 127.0.0.1:40002 -> "
            "127.0.0.3:6000: local socket 127.0.0.1:40000 is not open");
}

}  // namespace
}  // namespace mpx::datapath::test
