// parse_management_command (see management_commands.hpp).
#include "dispatcher/management/management_commands.hpp"

namespace mpx::dispatcher {

ManagementCommand parse_management_command(std::string_view line) {
  if (line == "sessions") {
    return ManagementCommand::sessions;
  }
  if (line == "summary") {
    return ManagementCommand::summary;
  }
  if (line == "version") {
    return ManagementCommand::version;
  }
  if (line == "quit" || line == "exit") {
    return ManagementCommand::quit;
  }
  return ManagementCommand::unknown;
}

}  // namespace mpx::dispatcher
