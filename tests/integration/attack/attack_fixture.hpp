// AttackTest: the gtest fixture of the attack scenarios (value parameter = the relay's datapath).
// Each test makes its own attack lab (NetnsLab::Variant::kAttack), dispatcher and mpx-relay with
// the scenarios' relay settings, as RelayLabTest does; TearDown prints the relay's log when the
// test failed. Also owns the settings every scenario shares, the figures of a scenario run and
// set_nat_source(), which moves the NAT router's mapping to another public address.
//
// Baseline runs: env MPX_ATTACK_LATCHING (e.g. `first_packet`, MediaProxy's behaviour), when set
// and not empty, replaces the `latching` of EVERY scenario's relay as it starts (start_attack(),
// also over a scenario's own choice such as NatUnsignalled's `signalled_only`), so the same
// scenarios run against another latching in the same build. The scenarios' assertions describe
// strict latching and are expected to fail under the override: such a run is for the figures
// (bench/suites/attack.sh), which record the latching the relay ran with.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/attack/attack_packets.hpp"
#include "tests/integration/attack/figures.hpp"
#include "tests/integration/attack/media_call.hpp"
#include "tests/integration/attack/sprayer.hpp"
#include "tests/integration/relay_lab/relay_lab_fixture.hpp"

namespace mpx::test::attack {

// Every scenario's relay: strict latching with the product's default window, the lab's 10.x
// "public" endpoints routable (192.168.0.10 behind the NAT is not), a stream_timeout that
// never interferes, and the eBPF programs on every relay link media arrives on.
relay_lab::RelaySettings attack_settings();

// The latching a scenario's relay runs with: MPX_ATTACK_LATCHING when set and not empty, else
// `asked`.
std::string scenario_latching(const std::string& asked);

// The lab's legitimate parties (relay_lab's SSRCs and fill bytes), for classification.
Parties lab_parties();

// Replaces the NAT router's SNAT rules so natted's traffic leaves from `ip` (ports still in
// 30000-39999), and flushes the router's conntrack table so no earlier mapping survives.
::testing::AssertionResult set_nat_source(const NetnsLab& lab, const std::string& ip);

class AttackTest : public relay_lab::RelayLabTest {
 protected:
  void SetUp() override;
  // The lab, dispatcher and relay (the datapath is the test's parameter; the latching is
  // scenario_latching(settings.latching)).
  void start_attack(relay_lab::RelaySettings settings = attack_settings());
  NetnsLab& lab() { return env_->lab(); }
  const std::string& datapath() const { return GetParam(); }
  // Figures named after the scenario, this test and its datapath and latching.
  Figures figures(const std::string& scenario) const;
  // The same, filled with what `call` knows (delivery counted from `from`) and, when given, what
  // the sprayer sent and got.
  Figures figures(const std::string& scenario, const MediaCall& call,
                  std::chrono::milliseconds from, const Sprayer* sprayer = nullptr) const;

 private:
  std::string latching_;
};

}  // namespace mpx::test::attack
