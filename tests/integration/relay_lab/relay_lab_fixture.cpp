// RelayLab, CallEnds and RelayLabTest (see relay_lab_fixture.hpp).
#include "tests/integration/relay_lab/relay_lab_fixture.hpp"

#include <iostream>
#include <thread>

#include "tests/support/privileged.hpp"

namespace mpx::test::relay_lab {

using namespace std::chrono_literals;
using dispatcher::testing::DispatcherHarness;

RelayLab::RelayLab(const std::string& name, NetnsLab::Variant variant)
    : lab_(std::make_unique<NetnsLab>(name, variant)) {
  // Made inside the proxy namespace: the listener is bound there and the io thread (started by
  // the constructor) inherits the namespace. The module socket is a path, usable from anywhere.
  lab_->in_ns("proxy", [&] {
    dispatcher_ = std::make_unique<DispatcherHarness>([](config::Config& config, auto&) {
      config.dispatcher.listen = {boost::asio::ip::make_address_v4(LabAddresses::kProxy),
                                  kDispatcherPort};
    });
  });
  if (!dispatcher_->open_error().empty()) {
    throw std::runtime_error("dispatcher in the proxy namespace: " + dispatcher_->open_error());
  }
}

RelayLab::~RelayLab() {
  relay_.reset();  // the relay first: its shutdown reports to the dispatcher
  dispatcher_.reset();
  lab_.reset();
}

::testing::AssertionResult RelayLab::start_relay(const RelaySettings& requested) {
  RelaySettings settings = requested;
  if (settings.bpf_pin_path.empty()) {
    settings.bpf_pin_path = (lab_->bpffs_dir() / "relay").string();
  }
  if (settings.datapath == "xdp_native") {
    // Every peer of a relay link the program may redirect into (no attacker or nat in kBasic:
    // the command then fails harmlessly).
    for (const std::string role : {"caller", "callee", "attacker", "nat"}) {
      (void)lab_->exec(role, {"ethtool", "-K", "eth0", "gro", "on"});
    }
  }
  relay_ = std::make_unique<RelayProcess>(*lab_, settings);
  if (!DispatcherHarness::eventually([&] { return dispatcher_->relay_count() == 1; }, 10s)) {
    return ::testing::AssertionFailure()
           << "the relay did not register with the dispatcher within 10 s (running: "
           << relay_->running() << ")";
  }
  return ::testing::AssertionSuccess();
}

std::unique_ptr<LabCall> RelayLab::new_call(const std::string& call_id) {
  return std::make_unique<LabCall>(dispatcher_->socket_path(), call_id);
}

std::optional<protocol::SessionStatistics> RelayLab::wait_accounted(
    const std::string& call_id, std::chrono::milliseconds timeout) {
  std::optional<protocol::SessionStatistics> found;
  DispatcherHarness::eventually(
      [&] {
        for (const auto& record : dispatcher_->accounted()) {
          if (record.call_id == call_id) {
            found = record;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

CallEnds::CallEnds(const NetnsLab& lab, std::uint16_t caller_port, std::uint16_t callee_port)
    : CallEnds(lab, {"caller", LabAddresses::kCaller, caller_port},
               {"callee", LabAddresses::kCallee, callee_port}) {}

CallEnds::CallEnds(const NetnsLab& lab, const EndAddress& caller, const EndAddress& callee)
    : caller_rtp(lab, caller.role, caller.ip, caller.port),
      caller_rtcp(lab, caller.role, caller.ip, static_cast<std::uint16_t>(caller.port + 1)),
      callee_rtp(lab, callee.role, callee.ip, callee.port),
      callee_rtcp(lab, callee.role, callee.ip, static_cast<std::uint16_t>(callee.port + 1)) {}

::testing::AssertionResult establish(LabCall& call, const CallEnds& ends, RelayPorts& ports) {
  if (!call.connected()) {
    return ::testing::AssertionFailure() << "no connection to the dispatcher's module socket";
  }
  const auto callee_side = call.offer(1, {LabAddresses::kCaller, ends.caller_rtp.port()});
  if (!callee_side) {
    return ::testing::AssertionFailure() << "INVITE update answered: " << call.last_reply();
  }
  const auto caller_side = call.answer(1, {LabAddresses::kCallee, ends.callee_rtp.port()});
  if (!caller_side) {
    return ::testing::AssertionFailure() << "200 OK update answered: " << call.last_reply();
  }
  ports = {*caller_side, *callee_side};
  return ::testing::AssertionSuccess();
}

void exchange(CallEnds& ends, const RelayPorts& ports, const Exchange& plan, RtpPeer* caller_rtp,
              RtpPeer* caller_rtcp) {
  RtpPeer& c_rtp = caller_rtp != nullptr ? *caller_rtp : ends.caller_rtp;
  RtpPeer& c_rtcp = caller_rtcp != nullptr ? *caller_rtcp : ends.caller_rtcp;
  const SendPlan caller{kCallerSsrc, kCallerFill, 0us};
  const SendPlan callee{kCalleeSsrc, kCalleeFill, 0us};
  const char* relay = LabAddresses::kRelayPublic;
  const int rtcp_every = plan.rtcp > 0 ? std::max(1, plan.rtp / plan.rtcp) : 0;
  int rtcp_sent = 0;
  for (int i = 0; i < plan.rtp; ++i) {
    c_rtp.send_rtp(relay, ports.caller_side, 1, caller);
    ends.callee_rtp.send_rtp(relay, ports.callee_side, 1, callee);
    if (rtcp_every > 0 && i % rtcp_every == 0 && rtcp_sent < plan.rtcp) {
      c_rtcp.send_rtcp(relay, static_cast<std::uint16_t>(ports.caller_side + 1), 1, caller);
      ends.callee_rtcp.send_rtcp(relay, static_cast<std::uint16_t>(ports.callee_side + 1), 1,
                                 callee);
      ++rtcp_sent;
    }
    std::this_thread::sleep_for(plan.interval);
  }
}

std::string relay_side(std::uint16_t port) { return endpoint(LabAddresses::kRelayPublic, port); }

void RelayLabTest::SetUp() {
  MPX_REQUIRE(missing_root());
  for (const char* tool : {"ip", "bash", "ethtool", "nft", "ss", "sysctl"}) {
    MPX_REQUIRE(missing_tool(tool));
  }
}

void RelayLabTest::TearDown() {
  if (HasFailure() && env_ && env_->has_relay()) {
    std::cout << "---- mpx-relay log (" << env_->relay().config_dir() << ") ----\n"
              << env_->relay().log() << "---- end of mpx-relay log ----\n";
  }
  env_.reset();
}

void RelayLabTest::start(NetnsLab::Variant variant, RelaySettings settings, bool use_param) {
  if (use_param) {
    settings.datapath = GetParam();
  }
  env_ = std::make_unique<RelayLab>("rl", variant);
  ASSERT_TRUE(env_->start_relay(settings)) << env_->relay().log();
}

std::string datapath_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace mpx::test::relay_lab
