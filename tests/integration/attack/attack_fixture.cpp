// AttackTest, the scenarios' relay settings, the latching override and the NAT switch (see
// attack_fixture.hpp).
#include "tests/integration/attack/attack_fixture.hpp"

#include <cstdlib>

#include "tests/integration/attack/spray_figures.hpp"
#include "tests/support/privileged.hpp"

namespace mpx::test::attack {

using namespace std::chrono_literals;

relay_lab::RelaySettings attack_settings() {
  relay_lab::RelaySettings settings;
  settings.latching = "strict";
  settings.latching_window_ms = 1000;  // the product default
  settings.routable_private_ranges = "10.0.0.0/8";
  settings.stream_timeout = 30;
  settings.on_hold_timeout = 30;
  settings.bpf_interfaces = "caller0, callee0, nat0";
  return settings;
}

std::string scenario_latching(const std::string& asked) {
  const char* forced = std::getenv("MPX_ATTACK_LATCHING");
  return forced != nullptr && *forced != '\0' ? std::string(forced) : asked;
}

Parties lab_parties() {
  return {relay_lab::kCallerSsrc, relay_lab::kCallerFill, relay_lab::kCalleeSsrc,
          relay_lab::kCalleeFill};
}

::testing::AssertionResult set_nat_source(const NetnsLab& lab, const std::string& ip) {
  // One nft invocation, one transaction: the chain is never left without its SNAT rules.
  const std::string rule = "add rule ip labnat postrouting ip saddr 192.168.0.0/24 oifname eth0 ";
  const std::string script = "flush chain ip labnat postrouting; " + rule +
                             "meta l4proto { tcp, udp } snat to " + ip + ":30000-39999; " + rule +
                             "snat to " + ip;
  const RunResult nft = lab.exec("nat", {"nft", script});
  if (nft.exit_code != 0) {
    return ::testing::AssertionFailure() << "nft in nat: " << nft.err;
  }
  const RunResult flush = lab.exec("nat", {"conntrack", "-F"});
  if (flush.exit_code != 0) {
    return ::testing::AssertionFailure() << "conntrack -F in nat: " << flush.err;
  }
  return ::testing::AssertionSuccess();
}

void AttackTest::SetUp() {
  RelayLabTest::SetUp();
  if (IsSkipped() || HasFatalFailure()) {
    return;
  }
  MPX_REQUIRE(missing_tool("conntrack"));
}

void AttackTest::start_attack(relay_lab::RelaySettings settings) {
  settings.latching = scenario_latching(settings.latching);
  latching_ = settings.latching;
  start(NetnsLab::Variant::kAttack, std::move(settings));
}

Figures AttackTest::figures(const std::string& scenario) const {
  Figures f;
  f.scenario = scenario;
  f.datapath = GetParam();
  f.latching = latching_;
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    f.test = std::string(info->test_suite_name()) + "." + info->name();
  }
  return f;
}

Figures AttackTest::figures(const std::string& scenario, const MediaCall& call,
                            std::chrono::milliseconds from, const Sprayer* sprayer) const {
  Figures f = figures(scenario);
  call.fill(f, from);
  if (sprayer != nullptr) {
    add_spray(f, *sprayer);
  }
  return f;
}

}  // namespace mpx::test::attack
