// The Datapath interface's default batch and adoption behaviour; see datapath.hpp.
#include "userspace/datapath.hpp"

namespace mpx::datapath {

std::vector<Result<void>> Datapath::install_batch(std::span<const Flow> flows) {
  std::vector<Result<void>> results;
  results.reserve(flows.size());
  for (const auto& flow : flows) {
    results.push_back(install(flow));
  }
  return results;
}

std::vector<Result<FlowCounters>> Datapath::remove_batch(std::span<const Flow> flows) {
  std::vector<Result<FlowCounters>> results;
  results.reserve(flows.size());
  for (const auto& flow : flows) {
    results.push_back(remove(flow));
  }
  return results;
}

Result<void> Datapath::claim_adopted(const Flow&) {
  return Error{name() + " datapath: no flow outlives a relay process, none can be claimed"};
}

}  // namespace mpx::datapath
