// Protocol A reply lines.
#include "common/protocol/module_reply.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace mpx::protocol {
namespace {

TEST(ModuleReply, PortsReplyMatchesTheSpecExample) {
  const std::vector<std::uint16_t> ports{40002, 40006};
  EXPECT_EQ(format_ports_reply(boost::asio::ip::make_address_v4("203.0.113.5"), ports),
            "203.0.113.5 40002 40006\r\n");
  EXPECT_EQ(format_ports(boost::asio::ip::make_address_v4("203.0.113.5"), ports),
            "203.0.113.5 40002 40006");
}

TEST(ModuleReply, ClosedStreamsAndExtremes) {
  const std::vector<std::uint16_t> ports{0, 65535, 1024};
  EXPECT_EQ(format_ports_reply(boost::asio::ip::make_address_v4("10.0.0.1"), ports),
            "10.0.0.1 0 65535 1024\r\n");
  EXPECT_EQ(format_ports_reply(boost::asio::ip::make_address_v4("10.0.0.1"), {}), "10.0.0.1\r\n");
}

TEST(ModuleReply, Literals) {
  EXPECT_EQ(kRemovedReply, "removed\r\n");
  EXPECT_EQ(kErrorReply, "error\r\n");
}

}  // namespace
}  // namespace mpx::protocol
