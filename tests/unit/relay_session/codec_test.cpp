// Codec names from RTP payload types (compat spec 5.11).
#include "relay/session/codec.hpp"

#include <gtest/gtest.h>

namespace mpx::relay::session {
namespace {

TEST(RelaySessionCodec, StaticPayloadTypes) {
  EXPECT_EQ(codec_name(0), "G711u");
  EXPECT_EQ(codec_name(1), "1016");
  EXPECT_EQ(codec_name(3), "GSM");
  EXPECT_EQ(codec_name(5), "DVI4");
  EXPECT_EQ(codec_name(6), "DVI4");
  EXPECT_EQ(codec_name(8), "G711a");
  EXPECT_EQ(codec_name(9), "G722");
  EXPECT_EQ(codec_name(11), "L16");
  EXPECT_EQ(codec_name(18), "G729");
  EXPECT_EQ(codec_name(25), "CelB");
  EXPECT_EQ(codec_name(28), "nv");
  EXPECT_EQ(codec_name(34), "H263");
}

TEST(RelaySessionCodec, DynamicAboveNinetyFiveAndUnknownOtherwise) {
  EXPECT_EQ(codec_name(96), "Dynamic(96)");
  EXPECT_EQ(codec_name(127), "Dynamic(127)");
  EXPECT_EQ(codec_name(95), "Unknown(95)");
  EXPECT_EQ(codec_name(12), "Unknown(12)");
  EXPECT_EQ(codec_name(35), "Unknown(35)");
  // The marker bit is not part of the payload type.
  EXPECT_EQ(codec_name(0x80 | 8), "G711a");
}

}  // namespace
}  // namespace mpx::relay::session
