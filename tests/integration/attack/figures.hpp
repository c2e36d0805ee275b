// The figures of one attack scenario run: one line on stdout, "ATTACK-FIGURES " followed by
// compact JSON, and, when env MPX_ATTACK_FIGURES_DIR is set, the same JSON in
// <dir>/<scenario>.<datapath>.json (for a benchmark run: bench/suites/attack.sh). Also owns
// MPX_ATTACK_SCALE, the multiplier of media and spray durations.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace mpx::test::attack {

struct PerParty {
  std::uint64_t caller = 0;
  std::uint64_t callee = 0;
  std::uint64_t attacker = 0;
};

struct Figures {
  std::string scenario;
  std::string datapath;
  std::string latching;  // the relay's `latching` (MPX_ATTACK_LATCHING may override the scenario's)
  std::string test;      // the gtest "Suite.Name/param" that produced them
  PerParty sent;               // packets each party sent (the attacker: spray, hijack and forged)
  PerParty received;           // packets that reached each party's sockets (any kind, any source)
  std::uint64_t bled = 0;      // legitimate media that reached the attacker or a decoy
  std::uint64_t injected = 0;  // attacker packets that reached the caller or callee (any socket)
  // Delivered fraction of the RTP counted in each direction, and the first delivery in ms
  // after that direction's media start; null when the scenario has no RTP.
  std::optional<double> delivered_caller_to_callee;
  std::optional<double> delivered_callee_to_caller;
  std::optional<double> first_ms_caller_to_callee;
  std::optional<double> first_ms_callee_to_caller;
  std::uint64_t foreign_source = 0;       // packets an endpoint got from other than its relay port
  std::string caller_remote = "Unknown";  // the final statistics' latched addresses
  std::string callee_remote = "Unknown";
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // scenario-specific
};

nlohmann::ordered_json to_json(const Figures& figures);
// Prints the ATTACK-FIGURES line and writes the file when MPX_ATTACK_FIGURES_DIR is set;
// returns the line.
std::string publish(const Figures& figures);

// MPX_ATTACK_SCALE (a positive integer; 1 when unset or invalid).
int attack_scale();
// `base` x MPX_ATTACK_SCALE.
std::chrono::milliseconds scaled(std::chrono::milliseconds base);

}  // namespace mpx::test::attack
