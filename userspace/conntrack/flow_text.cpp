// flow_text: one-line descriptions of flows and endpoints for error messages.
#include "userspace/conntrack/flow_text.hpp"

namespace mpx::datapath {

std::string describe(const Endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

std::string describe(const Flow& flow) {
  return describe(flow.caller_remote) + " -> " + describe(flow.caller_local) + " / " +
         describe(flow.callee_local) + " -> " + describe(flow.callee_remote);
}

}  // namespace mpx::datapath
