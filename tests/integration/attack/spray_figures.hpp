// What a scenario's sprayer contributes to its figures: the attacker's packets sent (by kind)
// and received (by origin), and the legitimate media that bled to it.
#pragma once

#include "tests/integration/attack/figures.hpp"
#include "tests/integration/attack/sprayer.hpp"

namespace mpx::test::attack {

// Adds the sprayer's packets to f.sent.attacker, f.received.attacker and f.bled, and its
// details to f.extra ("spray_sent" by kind, "attacker_received" by origin).
void add_spray(Figures& f, const Sprayer& sprayer);

}  // namespace mpx::test::attack
