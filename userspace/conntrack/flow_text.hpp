// flow_text: one-line descriptions of flows and endpoints for error messages
// ("10.1.0.10:5000 -> 203.0.113.1:40000 / 203.0.113.1:40002 -> 10.2.0.20:6000").
#pragma once

#include <string>

#include "userspace/datapath.hpp"

namespace mpx::datapath {

std::string describe(const Endpoint& endpoint);
std::string describe(const Flow& flow);

}  // namespace mpx::datapath
