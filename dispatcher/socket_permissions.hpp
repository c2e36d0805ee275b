// Ownership and mode of the module socket file ([Dispatcher] socket_mode, socket_owner,
// socket_group): only the SIP proxy's user or group should reach the dispatcher.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace mpx::dispatcher {

struct SocketPermissions {
  std::uint32_t mode = 0660;
  std::optional<std::string> owner;  // user name or numeric uid
  std::optional<std::string> group;  // group name or numeric gid
};

// uid of a user name or decimal uid; error "unknown user 'x'".
Result<uid_t> resolve_user(const std::string& name);
// gid of a group name or decimal gid; error "unknown group 'x'".
Result<gid_t> resolve_group(const std::string& name);

// chown (when owner/group are set) then chmod; the error names the path and the failing step.
Result<void> apply_socket_permissions(const std::filesystem::path& path,
                                      const SocketPermissions& permissions);

}  // namespace mpx::dispatcher
