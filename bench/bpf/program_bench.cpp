// mpx_bench_bpf_program: nanoseconds per packet of the mpx XDP and TC forwarders (the objects
// embedded in the relay, loaded by userspace/bpf's LoadedProgram) through BPF_PROG_TEST_RUN,
// with 1, 10,000 and 100,000 flows in the flow map, for a packet that is forwarded, a packet of
// an unknown flow (passed), a packet whose flow matches but whose route leaves by another
// interface than the flow's (passed after the route lookup: isolates flow hit + bpf_fib_lookup
// from the rewrite), and a baseline program that returns XDP_PASS / TC_ACT_OK at once
// (bench/bpf/baseline.c). Prints one JSON document on stdout for bench/suites/bpf_program.sh.
//
// Method: one BPF_PROG_TEST_RUN per packet (repeat = 1) over a fresh copy of the frame, the
// kernel's duration averaged over many calls. A repeat > 1 would run the forwarder on the frame
// it rewrote itself, which no longer matches the flow (and its TTL runs out). The kernel's
// duration of one run includes reading the clock; the baseline pays the same, so "forwarder
// minus baseline" is the forwarder's own cost. Cases are interleaved in rounds so that load
// from other processes is shared fairly among them.
//
// Runs in a scratch network namespace (tests/bpf/forwarding_netns.hpp) so bpf_fib_lookup finds
// a route and a neighbour for the forwarded packet; the namespace and the programs vanish with
// the process. Needs root. Usage: mpx_bench_bpf_program [--quick]
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <exception>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/mpx_shared.h"
#include "tests/bpf/forwarding_netns.hpp"
#include "tests/bpf/packet_builder.hpp"
#include "userspace/bpf/embedded_objects.hpp"
#include "userspace/bpf/program_loader.hpp"

namespace {

using mpx::test::Bytes;
using Host = mpx::test::ForwardingHost;

constexpr std::uint32_t kMapEntries = 131072;  // room for the largest count
constexpr std::uint16_t kRelayPort = 50000;
constexpr std::uint16_t kCallerPort = 40000;

__be32 be32_of(const mpx::test::Ipv4Address& address) {
  __be32 value = 0;
  std::memcpy(&value, address.data(), sizeof value);
  return value;
}

mpx_flow_key measured_key() {
  mpx_flow_key key{};
  key.relay_addr = be32_of(Host::kRelayPublic);
  key.remote_addr = be32_of(Host::kCaller);
  key.relay_port = htons(kRelayPort);
  key.remote_port = htons(kCallerPort);
  return key;
}

// The other flows: same relay port, remotes 10.100.0.0 + i (never seen by the measured packets).
mpx_flow_key filler_key(std::uint32_t i) {
  mpx_flow_key key = measured_key();
  key.remote_addr = htonl(0x0a640000u + i);
  return key;
}

mpx_flow_value forward_to_callee() {
  mpx_flow_value value{};
  value.new_src_addr = be32_of(Host::kRelayPublic);
  value.new_dst_addr = be32_of(Host::kCallee);
  value.new_src_port = htons(kRelayPort + 2);
  value.new_dst_port = htons(7078);
  return value;
}

// A 172-byte RTP-like payload from the caller to the relay; remote_port picks the flow.
Bytes frame_from_caller(std::uint16_t remote_port) {
  mpx::test::EthernetSpec eth;
  eth.dst = Host::kIn0Mac;
  eth.src = Host::kCallerMac;
  mpx::test::Ipv4Spec ip;
  ip.src = Host::kCaller;
  ip.dst = Host::kRelayPublic;
  mpx::test::UdpSpec udp;
  udp.src_port = remote_port;
  udp.dst_port = kRelayPort;
  Bytes payload(172);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<std::uint8_t>(i * 13 + 5);
  }
  return mpx::test::udp4_frame(eth, ip, udp, payload);
}

[[noreturn]] void fail(const std::string& why) {
  throw std::runtime_error(why);
}

// Repeated single runs of one program over one frame, as the kernel timed them.
class Case {
 public:
  Case(std::string name, int program_fd, bpf_prog_type type, Bytes frame, std::uint32_t ifindex,
       std::uint32_t expected_verdict)
      : name_(std::move(name)),
        fd_(program_fd),
        type_(type),
        frame_(std::move(frame)),
        ifindex_(ifindex),
        expected_(expected_verdict) {}

  void run(std::uint32_t calls) {
    std::vector<std::uint8_t> output(frame_.size() + 256);
    for (std::uint32_t i = 0; i < calls; ++i) {
      bpf_test_run_opts opts{};
      opts.sz = sizeof opts;
      opts.data_in = frame_.data();
      opts.data_size_in = static_cast<std::uint32_t>(frame_.size());
      opts.data_out = output.data();
      opts.data_size_out = static_cast<std::uint32_t>(output.size());
      opts.repeat = 1;
      xdp_md xdp_context{};
      __sk_buff skb_context{};
      if (type_ == BPF_PROG_TYPE_XDP) {
        xdp_context.data_end = static_cast<std::uint32_t>(frame_.size());
        xdp_context.ingress_ifindex = ifindex_;
        opts.ctx_in = &xdp_context;
        opts.ctx_size_in = sizeof xdp_context;
      } else {
        skb_context.ifindex = ifindex_;
        skb_context.ingress_ifindex = ifindex_;
        opts.ctx_in = &skb_context;
        opts.ctx_size_in = sizeof skb_context;
      }
      if (const int err = bpf_prog_test_run_opts(fd_, &opts); err != 0) {
        fail(name_ + ": BPF_PROG_TEST_RUN failed: " + std::strerror(-err));
      }
      if (opts.retval != expected_) {
        fail(name_ + ": verdict " + std::to_string(opts.retval) + ", expected " +
             std::to_string(expected_));
      }
      total_ns_ += opts.duration;
      ++runs_;
    }
  }
  double mean_ns() const {
    return runs_ == 0 ? 0.0 : static_cast<double>(total_ns_) / static_cast<double>(runs_);
  }
  std::uint64_t runs() const { return runs_; }

 private:
  std::string name_;
  int fd_;
  bpf_prog_type type_;
  Bytes frame_;
  std::uint32_t ifindex_;
  std::uint32_t expected_;
  std::uint64_t total_ns_ = 0;
  std::uint64_t runs_ = 0;
};

struct BaselineObject {
  bpf_object* object = nullptr;
  explicit BaselineObject(const char* path) {
    object = bpf_object__open_file(path, nullptr);
    if (object == nullptr) {
      fail(std::string("cannot open ") + path);
    }
    if (bpf_object__load(object) != 0) {
      bpf_object__close(object);
      fail(std::string("cannot load ") + path);
    }
  }
  ~BaselineObject() { bpf_object__close(object); }
  BaselineObject(const BaselineObject&) = delete;
  BaselineObject& operator=(const BaselineObject&) = delete;
  int fd(const char* program) const {
    const bpf_program* p = bpf_object__find_program_by_name(object, program);
    if (p == nullptr) {
      fail(std::string("no program ") + program + " in the baseline object");
    }
    return bpf_program__fd(p);
  }
};

struct Hook {
  const char* name;
  std::span<const unsigned char> object;
  const char* program;
  const char* baseline_program;
  bpf_prog_type type;
  std::uint32_t pass;
  std::uint32_t forwarded;
};

nlohmann::json bench_hook(const Hook& hook, const BaselineObject& baseline,
                          const mpx::test::ForwardingNetns& netns, std::uint32_t calls,
                          std::uint32_t rounds) {
  auto loaded = mpx::datapath::bpf::LoadedProgram::load(hook.object, hook.program, kMapEntries, {});
  if (!loaded.has_value()) {
    fail(std::string("loading ") + hook.program + ": " + loaded.error().message);
  }
  const auto& program = loaded.value();
  const mpx_flow_key key = measured_key();
  const mpx_flow_value value = forward_to_callee();
  if (bpf_map_update_elem(program.flows_fd(), &key, &value, BPF_ANY) != 0) {
    fail("cannot install the measured flow");
  }
  mpx_flow_key routed_key = key;
  routed_key.remote_port = htons(kCallerPort + 4);
  mpx_flow_value elsewhere = value;
  elsewhere.egress_ifindex = netns.out0() + 1000;  // never the route's: passed after the lookup
  if (bpf_map_update_elem(program.flows_fd(), &routed_key, &elsewhere, BPF_ANY) != 0) {
    fail("cannot install the route-only flow");
  }
  nlohmann::json rows = nlohmann::json::array();
  std::uint32_t installed = 2;
  for (const std::uint32_t flows : {1u, 10000u, 100000u}) {
    for (; installed < flows; ++installed) {
      const mpx_flow_key other = filler_key(installed);
      if (bpf_map_update_elem(program.flows_fd(), &other, &value, BPF_NOEXIST) != 0) {
        fail("cannot install flow " + std::to_string(installed));
      }
    }
    Case forwarded("forwarded", program.program_fd(), hook.type, frame_from_caller(kCallerPort),
                   netns.in0(), hook.forwarded);
    Case unknown("unknown flow", program.program_fd(), hook.type,
                 frame_from_caller(kCallerPort + 2), netns.in0(), hook.pass);
    Case routed("flow hit + route lookup", program.program_fd(), hook.type,
                frame_from_caller(kCallerPort + 4), netns.in0(), hook.pass);
    Case base("baseline", baseline.fd(hook.baseline_program), hook.type,
              frame_from_caller(kCallerPort), netns.in0(), hook.pass);
    for (std::uint32_t r = 0; r < rounds; ++r) {
      base.run(calls / rounds);
      forwarded.run(calls / rounds);
      unknown.run(calls / rounds);
      routed.run(calls / rounds);
    }
    rows.push_back({{"hook", hook.name},
                    {"flows", flows},
                    {"forwarded_ns", forwarded.mean_ns()},
                    {"unknown_ns", unknown.mean_ns()},
                    {"route_only_ns", routed.mean_ns()},
                    {"baseline_ns", base.mean_ns()},
                    {"runs", forwarded.runs()}});
    std::cerr << hook.name << " " << flows << " flows: forwarded " << forwarded.mean_ns()
              << " ns, unknown " << unknown.mean_ns() << " ns, route only " << routed.mean_ns()
              << " ns, baseline " << base.mean_ns()
              << " ns\n";
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const std::uint32_t calls = quick ? 20000 : 400000;
  const std::uint32_t rounds = 20;
  try {
    const mpx::test::ForwardingNetns netns;
    const BaselineObject baseline(MPX_BENCH_BASELINE_OBJECT);
    const Hook hooks[] = {
        {"xdp", mpx::datapath::embedded::xdp_object(), "mpx_xdp", "bench_xdp_pass",
         BPF_PROG_TYPE_XDP, XDP_PASS, XDP_REDIRECT},
        {"tc", mpx::datapath::embedded::tc_object(), "mpx_tc", "bench_tc_ok",
         BPF_PROG_TYPE_SCHED_CLS, TC_ACT_OK, TC_ACT_REDIRECT},
    };
    nlohmann::json rows = nlohmann::json::array();
    for (const Hook& hook : hooks) {
      for (auto& row : bench_hook(hook, baseline, netns, calls, rounds)) {
        rows.push_back(std::move(row));
      }
    }
    std::cout << nlohmann::json{{"calls_per_case", calls}, {"rows", rows}}.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "mpx_bench_bpf_program: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
