// The sprayer's share of the figures (see spray_figures.hpp).
#include "tests/integration/attack/spray_figures.hpp"

#include <string>

namespace mpx::test::attack {

void add_spray(Figures& f, const Sprayer& sprayer) {
  const SprayerReceived back = sprayer.received();
  f.sent.attacker += sprayer.sent();
  f.received.attacker += back.total();
  f.bled += back.caller + back.callee;
  nlohmann::ordered_json kinds = nlohmann::ordered_json::object();
  const auto sent = sprayer.sent_by_kind();
  for (std::size_t k = 0; k < kSprayKinds; ++k) {
    kinds[std::string(to_string(static_cast<SprayKind>(k)))] = sent[k];
  }
  f.extra["spray_sent"] = kinds;
  f.extra["attacker_received"] = {{"caller_media", back.caller},
                                  {"callee_media", back.callee},
                                  {"own", back.own},
                                  {"unknown", back.unknown}};
}

}  // namespace mpx::test::attack
