// Human-readable quantities, including values no relay should send (negative, beyond 64 bits).
#include <gtest/gtest.h>

#include <limits>

#include "tools/mpxctl/units.hpp"

namespace mpx::mpxctl {
namespace {

TEST(MpxctlUnits, Bytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(5960000), "5.7 MiB");
  EXPECT_EQ(format_bytes(18446744073709551615.0), "16.0 EiB");
  EXPECT_EQ(format_bytes(1e30), "8.67e+11 EiB");
  EXPECT_EQ(format_bytes(-1), "-");
  EXPECT_EQ(format_bytes(std::numeric_limits<double>::quiet_NaN()), "-");
}

TEST(MpxctlUnits, BitRate) {
  EXPECT_EQ(format_bps(0), "0 bit/s");
  EXPECT_EQ(format_bps(950), "950 bit/s");
  EXPECT_EQ(format_bps(1234567), "1.2 Mbit/s");
  EXPECT_EQ(format_bps(1e308).size() < 20, true) << format_bps(1e308);
}

TEST(MpxctlUnits, Duration) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(42), "42s");
  EXPECT_EQ(format_duration(187), "3m07s");
  EXPECT_EQ(format_duration(3725), "1h02m05s");
  EXPECT_EQ(format_duration(93784), "1d02h");
  EXPECT_EQ(format_duration(-12), "-");
  EXPECT_EQ(format_duration(1e300), "1e+300s");
}

}  // namespace
}  // namespace mpx::mpxctl
