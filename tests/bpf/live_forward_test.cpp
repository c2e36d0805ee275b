// The forwarder on real packets, not BPF_PROG_TEST_RUN: the program attached to in0 of a
// ForwardingNetns (generic XDP, or TC clsact ingress), a crafted frame sent into in0 from its veth
// peer through an AF_PACKET socket, and the frame that comes out of out0 read on out0's peer.
// Shows that the verdicts of the fixtures really deliver, with the expected bytes. Native XDP
// into a veth (which needs an XDP program on the receiving peer) is the lab suite's business.
// Needs root.
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "bpf/mpx_shared.h"
#include "tests/bpf/forwarding_netns.hpp"
#include "tests/bpf/mpx_programs.hpp"
#include "tests/bpf/packet_builder.hpp"
#include "tests/support/privileged.hpp"

namespace mpx::test {
namespace {

using Host = ForwardingHost;

__be32 be32_of(const Ipv4Address& address) {
  __be32 value = 0;
  std::memcpy(&value, address.data(), sizeof value);
  return value;
}

// An AF_PACKET socket bound to one interface; closes on scope exit.
class PacketSocket {
 public:
  explicit PacketSocket(const char* interface)
      : fd_(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL))),
        ifindex_(static_cast<int>(if_nametoindex(interface))) {
    if (fd_ < 0 || ifindex_ == 0) {
      return;
    }
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = ifindex_;
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    timeval timeout{};
    timeout.tv_usec = 200'000;
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~PacketSocket() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  PacketSocket(const PacketSocket&) = delete;
  PacketSocket& operator=(const PacketSocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool send(const Bytes& frame) const {
    return ::send(fd_, frame.data(), frame.size(), 0) == static_cast<ssize_t>(frame.size());
  }
  // The first frame within about 2 s that is IPv4/UDP to dst_port (the veths also carry the
  // kernel's own chatter).
  std::optional<Bytes> receive_udp_to(std::uint16_t dst_port) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::array<std::uint8_t, 2048> buffer{};
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t got = recv(fd_, buffer.data(), buffer.size(), 0);
      if (got < 0) {
        continue;
      }
      const auto size = static_cast<std::size_t>(got);
      const std::size_t port_at = kEthernetHeaderLen + kIpv4HeaderLen + 2;
      if (size < port_at + 2 || buffer[12] != 0x08 || buffer[13] != 0x00 ||
          buffer[kEthernetHeaderLen + 9] != kIpProtoUdp) {
        continue;
      }
      if (((buffer[port_at] << 8) | buffer[port_at + 1]) == dst_port) {
        return Bytes(buffer.begin(), buffer.begin() + got);
      }
    }
    return std::nullopt;
  }

 private:
  int fd_;
  int ifindex_;
};

class BpfLiveForward : public ::testing::TestWithParam<Hook> {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    MPX_REQUIRE(missing_tool("ip"));
    netns_ = std::make_unique<ForwardingNetns>();
    auto loaded = loaded_object(GetParam());
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    object_ = loaded.value();
    const int prog_fd = object_->program_fd(hook_program(GetParam()).program);
    ASSERT_GE(prog_fd, 0);
    const auto in0 = static_cast<int>(netns_->in0());
    if (GetParam() == Hook::xdp) {
      const int err = bpf_xdp_attach(in0, prog_fd, XDP_FLAGS_SKB_MODE, nullptr);
      ASSERT_EQ(err, 0) << "bpf_xdp_attach: " << std::strerror(-err);
    } else {
      bpf_tc_hook hook{};
      hook.sz = sizeof hook;
      hook.ifindex = in0;
      hook.attach_point = BPF_TC_INGRESS;
      int err = bpf_tc_hook_create(&hook);
      ASSERT_EQ(err, 0) << "bpf_tc_hook_create: " << std::strerror(-err);
      bpf_tc_opts opts{};
      opts.sz = sizeof opts;
      opts.prog_fd = prog_fd;
      err = bpf_tc_attach(&hook, &opts);
      ASSERT_EQ(err, 0) << "bpf_tc_attach: " << std::strerror(-err);
    }
    // Attachments go away with the namespace's interfaces in TearDown.
  }
  void TearDown() override {
    if (object_ != nullptr) {
      (void)object_->erase(MPX_MAP_FLOWS, key_);
    }
    netns_.reset();
  }

  std::unique_ptr<ForwardingNetns> netns_;
  LoadedBpfObject* object_ = nullptr;
  mpx_flow_key key_{};
};

TEST_P(BpfLiveForward, DeliversTheRewrittenFrameOutOfTheEgressInterface) {
  key_.relay_addr = be32_of(Host::kRelayPublic);
  key_.remote_addr = be32_of(Host::kCaller);
  key_.relay_port = htons(50000);
  key_.remote_port = htons(40000);
  mpx_flow_value value{};
  value.new_src_addr = be32_of(Host::kRelayPublic);
  value.new_dst_addr = be32_of(Host::kCallee);
  value.new_src_port = htons(50002);
  value.new_dst_port = htons(7078);
  const auto added = object_->update(MPX_MAP_FLOWS, key_, value);
  ASSERT_TRUE(added.has_value()) << added.error().message;

  EthernetSpec eth;
  eth.dst = Host::kIn0Mac;
  eth.src = Host::kCallerMac;
  Ipv4Spec ip;
  ip.src = Host::kCaller;
  ip.dst = Host::kRelayPublic;
  UdpSpec udp;
  udp.src_port = 40000;
  udp.dst_port = 50000;
  const Bytes data(172, 0x80);
  EthernetSpec out_eth = eth;
  out_eth.dst = Host::kCalleeMac;
  out_eth.src = Host::kOut0Mac;
  Ipv4Spec out_ip = ip;
  out_ip.src = Host::kRelayPublic;
  out_ip.dst = Host::kCallee;
  out_ip.ttl = static_cast<std::uint8_t>(ip.ttl - 1);
  UdpSpec out_udp = udp;
  out_udp.src_port = 50002;
  out_udp.dst_port = 7078;

  const PacketSocket sender("in0p");
  const PacketSocket receiver("out0p");
  ASSERT_TRUE(sender.ok() && receiver.ok()) << std::strerror(errno);
  const auto stats_before = object_->percpu_u64_sums(MPX_MAP_STATS);
  ASSERT_TRUE(stats_before.has_value()) << stats_before.error().message;
  ASSERT_TRUE(sender.send(udp4_frame(eth, ip, udp, data))) << std::strerror(errno);

  const std::optional<Bytes> received = receiver.receive_udp_to(7078);
  ASSERT_TRUE(received.has_value()) << "nothing came out of out0";
  EXPECT_EQ(*received, udp4_frame(out_eth, out_ip, out_udp, data));
  const auto stats_after = object_->percpu_u64_sums(MPX_MAP_STATS);
  ASSERT_TRUE(stats_after.has_value()) << stats_after.error().message;
  EXPECT_EQ(counter_moves(stats_before.value(), stats_after.value())["FORWARDED_REDIRECT"], 1u);
  const auto found = object_->lookup_elem(MPX_MAP_FLOWS, std::as_bytes(std::span(&key_, 1)));
  ASSERT_TRUE(found.has_value()) << found.error().message;
  mpx_flow_value counted{};
  std::memcpy(&counted, found.value().data(), sizeof counted);
  EXPECT_EQ(counted.packets, 1u);
}

INSTANTIATE_TEST_SUITE_P(Hooks, BpfLiveForward, ::testing::Values(Hook::xdp, Hook::tc),
                         [](const ::testing::TestParamInfo<Hook>& param_info) {
                           return std::string(hook_name(param_info.param));
                         });

}  // namespace
}  // namespace mpx::test
