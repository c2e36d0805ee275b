// Socket file ownership and mode (see socket_permissions.hpp).
#include "dispatcher/socket_permissions.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

namespace mpx::dispatcher {
namespace {

std::optional<std::uint32_t> numeric_id(const std::string& text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

Result<uid_t> resolve_user(const std::string& name) {
  if (auto id = numeric_id(name)) {
    return static_cast<uid_t>(*id);
  }
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return Error{fmt::format("unknown user '{}'", name)};
  }
  return found->pw_uid;
}

Result<gid_t> resolve_group(const std::string& name) {
  if (auto id = numeric_id(name)) {
    return static_cast<gid_t>(*id);
  }
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  if (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return Error{fmt::format("unknown group '{}'", name)};
  }
  return found->gr_gid;
}

Result<void> apply_socket_permissions(const std::filesystem::path& path,
                                      const SocketPermissions& permissions) {
  if (permissions.owner || permissions.group) {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    if (permissions.owner) {
      auto resolved = resolve_user(*permissions.owner);
      if (!resolved) {
        return Error{fmt::format("{}: socket_owner: {}", path.string(), resolved.error().message)};
      }
      uid = resolved.value();
    }
    if (permissions.group) {
      auto resolved = resolve_group(*permissions.group);
      if (!resolved) {
        return Error{fmt::format("{}: socket_group: {}", path.string(), resolved.error().message)};
      }
      gid = resolved.value();
    }
    if (::chown(path.c_str(), uid, gid) != 0) {
      return Error{fmt::format("{}: cannot change owner/group: {}", path.string(),
                               std::strerror(errno))};
    }
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(permissions.mode)) != 0) {
    return Error{fmt::format("{}: cannot set mode {:04o}: {}", path.string(), permissions.mode,
                             std::strerror(errno))};
  }
  return outcome::success();
}

}  // namespace mpx::dispatcher
