// Names of the BPF programs' verdict counters (enum mpx_stat of bpf/mpx_shared.h), as the relay's
// summary and metrics show them: "forwarded_redirect", "pass_no_flow", ...
#pragma once

#include <cstdint>
#include <string>

namespace mpx::datapath {

// The name of counter index `stat`; "stat_<n>" for an index this build does not know (a pinned
// map written by a newer program).
std::string verdict_name(std::uint32_t stat);

}  // namespace mpx::datapath
