// The relay datapaths every lab suite runs with, as a GoogleTest parameter generator and a
// test-name suffix. Header-only and free of dispatcher headers, so any suite can include it
// (relay_lab's all_datapaths() in relay_lab_fixture.hpp lists the same values).
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace mpx::test {

inline auto all_relay_datapaths() {
  return ::testing::Values("conntrack", "userspace", "xdp", "tc");
}

// "conntrack", "userspace", "xdp", "tc" as the test-name suffix.
inline std::string relay_datapath_name(const ::testing::TestParamInfo<std::string>& param) {
  return param.param;
}

}  // namespace mpx::test
