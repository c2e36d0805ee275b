// mpxctl's views of the management interface's answers: the `sessions` array of session
// statistics (compat spec 3.4) and the `summary` array of relay summaries (3.5, plus mpx's "load"
// and "datapath" keys) as text tables. Rendering never fails: a missing key or a value of the
// wrong type shows as "-", a value that is not an object is shown as one anomalous row.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace mpx::mpxctl {

// One row per stream (the session's columns on its first row); "no sessions" when empty.
std::string render_sessions(const nlohmann::json& sessions);

// One row per relay, then one line of datapath counters per relay that reports them.
std::string render_summary(const nlohmann::json& relays);

// A screen of `mpxctl top`: `title`, the relays, then the sessions (no screen-clearing codes).
std::string render_top(std::string_view title, const nlohmann::json& relays,
                       const nlohmann::json& sessions);

}  // namespace mpx::mpxctl
