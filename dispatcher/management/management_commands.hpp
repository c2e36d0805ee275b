// The management interface's command words (compat spec 4). A command is the whole line, compared
// exactly (no trimming, no case folding) as MediaProxy does, so "version\n" + "\r\n" is unknown.
#pragma once

#include <string_view>

namespace mpx::dispatcher {

enum class ManagementCommand { sessions, summary, version, quit, unknown };

// "sessions", "summary", "version", "quit" or "exit"; anything else is unknown (answered "error").
ManagementCommand parse_management_command(std::string_view line);

}  // namespace mpx::dispatcher
