// BPF_PROG_TEST_RUN of the flow lookup: a key written from C++ with bpf/mpx_shared.h must be the
// key the XDP and TC programs build from a packet (same layout, same byte order), and the remote
// side is part of it (the source gate). Runs in an empty network namespace where IPv4 forwarding
// is off, so a match ends at bpf_fib_lookup (PASS_FIB_FWD_DISABLED, unmodified) and a miss at
// PASS_NO_FLOW: the two counters tell them apart (forwarding itself: forward_test.cpp). Needs root.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "bpf/mpx_shared.h"
#include "tests/bpf/forwarding_netns.hpp"
#include "tests/bpf/mpx_programs.hpp"
#include "tests/bpf/packet_builder.hpp"
#include "tests/support/privileged.hpp"

namespace mpx::test {
namespace {

__be32 be32_of(const Ipv4Address& address) {
  __be32 value = 0;
  std::memcpy(&value, address.data(), sizeof value);
  return value;
}

// The key of packets that arrive at ip.dst:udp.dst_port from ip.src:udp.src_port.
mpx_flow_key key_of(const Ipv4Spec& ip, const UdpSpec& udp) {
  mpx_flow_key key{};
  key.relay_addr = be32_of(ip.dst);
  key.remote_addr = be32_of(ip.src);
  key.relay_port = htons(udp.dst_port);
  key.remote_port = htons(udp.src_port);
  return key;
}

mpx_flow_value some_value() {
  mpx_flow_value value{};
  value.new_src_addr = be32_of({198, 51, 100, 1});
  value.new_dst_addr = be32_of({203, 0, 113, 9});
  value.new_src_port = htons(50002);
  value.new_dst_port = htons(7078);
  value.egress_ifindex = 1;
  return value;
}

// A flow in the object's map for the length of a test, even when an assertion ends it early.
class InstalledFlow {
 public:
  InstalledFlow(LoadedBpfObject& object, const mpx_flow_key& key) : object_(object), key_(key) {
    const auto added = object_.update(MPX_MAP_FLOWS, key_, some_value());
    EXPECT_TRUE(added.has_value()) << added.error().message;
  }
  InstalledFlow(const InstalledFlow&) = delete;
  InstalledFlow& operator=(const InstalledFlow&) = delete;
  ~InstalledFlow() { (void)object_.erase(MPX_MAP_FLOWS, key_); }

 private:
  LoadedBpfObject& object_;
  mpx_flow_key key_;
};

class BpfFlowLookup : public ::testing::TestWithParam<Hook> {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    netns_ = std::make_unique<FreshNetns>();
    auto loaded = loaded_object(GetParam());
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    object_ = loaded.value();
  }
  void TearDown() override { netns_.reset(); }

  void expect_counted(const Bytes& frame, const std::string& stat) {
    const auto outcome = run_counted(GetParam(), frame);
    ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
    EXPECT_EQ(outcome.value().run.verdict, hook_program(GetParam()).pass_verdict);
    EXPECT_EQ(outcome.value().moved, (CounterMoves{{stat, 1}}));
    EXPECT_EQ(outcome.value().run.output, frame);
  }

  std::unique_ptr<FreshNetns> netns_;
  LoadedBpfObject* object_ = nullptr;
  const Ipv4Spec ip_{};
  const UdpSpec udp_{};
  const Bytes payload_ = Bytes(172, 0x55);
};

TEST_P(BpfFlowLookup, FindsAFlowKeyWrittenFromCpp) {
  const Bytes frame = udp4_frame({}, ip_, udp_, payload_);
  {
    InstalledFlow flow(*object_, key_of(ip_, udp_));
    expect_counted(frame, "PASS_FIB_FWD_DISABLED");
  }
  expect_counted(frame, "PASS_NO_FLOW");  // removed flow: back to the stack's business
}

TEST_P(BpfFlowLookup, FindsTheFlowBehindAVlanTag) {
  EthernetSpec eth;
  eth.vlan_tci = 100;
  expect_counted(udp4_frame(eth, ip_, udp_, payload_), "PASS_NO_FLOW");
  InstalledFlow flow(*object_, key_of(ip_, udp_));
  expect_counted(udp4_frame(eth, ip_, udp_, payload_), "PASS_VLAN");  // matched, not taken
}

TEST_P(BpfFlowLookup, OnlyTheExpectedRemoteMatches) {
  InstalledFlow flow(*object_, key_of(ip_, udp_));
  Ipv4Spec other_remote = ip_;
  other_remote.src = {192, 0, 2, 2};
  expect_counted(udp4_frame({}, other_remote, udp_, payload_), "PASS_NO_FLOW");

  UdpSpec other_remote_port = udp_;
  other_remote_port.src_port = static_cast<std::uint16_t>(udp_.src_port + 1);
  expect_counted(udp4_frame({}, ip_, other_remote_port, payload_), "PASS_NO_FLOW");

  Ipv4Spec other_relay = ip_;
  other_relay.dst = {198, 51, 100, 2};
  expect_counted(udp4_frame({}, other_relay, udp_, payload_), "PASS_NO_FLOW");

  UdpSpec other_relay_port = udp_;
  other_relay_port.dst_port = static_cast<std::uint16_t>(udp_.dst_port + 2);
  expect_counted(udp4_frame({}, ip_, other_relay_port, payload_), "PASS_NO_FLOW");

  // The reverse direction (relay -> remote) is a different flow.
  Ipv4Spec reversed_ip = ip_;
  std::swap(reversed_ip.src, reversed_ip.dst);
  UdpSpec reversed_udp = udp_;
  std::swap(reversed_udp.src_port, reversed_udp.dst_port);
  expect_counted(udp4_frame({}, reversed_ip, reversed_udp, payload_), "PASS_NO_FLOW");
}

TEST_P(BpfFlowLookup, KeyPortsAreInNetworkOrder) {
  mpx_flow_key host_order = key_of(ip_, udp_);
  host_order.relay_port = udp_.dst_port;
  host_order.remote_port = udp_.src_port;
  InstalledFlow flow(*object_, host_order);
  expect_counted(udp4_frame({}, ip_, udp_, payload_), "PASS_NO_FLOW");
}

TEST_P(BpfFlowLookup, AFlowDoesNotMakeAFragmentOrOptionsPacketMatch) {
  InstalledFlow flow(*object_, key_of(ip_, udp_));
  Ipv4Spec fragment = ip_;
  fragment.more_fragments = true;
  expect_counted(udp4_frame({}, fragment, udp_, payload_), "PASS_FRAGMENT");
  Ipv4Spec with_options = ip_;
  with_options.options = {0x01, 0x01, 0x01, 0x00};
  expect_counted(udp4_frame({}, with_options, udp_, payload_), "PASS_IP_OPTIONS");
}

INSTANTIATE_TEST_SUITE_P(Hooks, BpfFlowLookup, ::testing::Values(Hook::xdp, Hook::tc),
                         [](const ::testing::TestParamInfo<Hook>& param_info) {
                           return std::string(hook_name(param_info.param));
                         });

}  // namespace
}  // namespace mpx::test
