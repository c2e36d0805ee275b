// The relay's state file: what a restarted relay needs to rebuild the sessions whose flows a kernel
// datapath (xdp, tc) kept forwarding while it was down. One JSON document: per session its
// SessionSnapshot (call id, tags, the dispatcher that created it, offers, streams with their relay
// ports, SDP addresses, codecs, times) and per alive stream the engine's StreamRecovery (installed
// flows, latched remotes, counters not held by the flows).
//
// Written atomically (a temporary file in the same directory, fsync, rename, fsync of the
// directory): a reader sees the previous document or the new one, never a mix. Read with a
// size bound; a truncated, oversized or malformed file is an error naming what is wrong (the
// relay then starts clean), never a crash.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "relay/engine/media_engine.hpp"
#include "relay/session/session.hpp"

namespace mpx::relay::recovery {

struct RecoveredSession {
  session::SessionSnapshot session;
  std::vector<engine::StreamRecovery> media;  // one per alive stream with ports
};

struct RelayState {
  std::string datapath;  // the datapath that wrote it ("xdp", "tc")
  std::vector<RecoveredSession> sessions;
};

inline constexpr std::size_t kMaxStateFileBytes = 64UL * 1024 * 1024;
inline constexpr int kStateFormatVersion = 1;

std::string to_json(const RelayState& state);
Result<RelayState> parse_state(std::string_view text);

// Atomic replace of `path` (see above); the parent directory must exist.
Result<void> write_state_file(const std::filesystem::path& path, const RelayState& state);
// nullopt when there is no file; an error when it cannot be read, exceeds max_bytes or does not
// parse.
Result<std::optional<RelayState>> read_state_file(const std::filesystem::path& path,
                                                  std::size_t max_bytes = kMaxStateFileBytes);
// Removes the file (absent is fine).
Result<void> remove_state_file(const std::filesystem::path& path);

}  // namespace mpx::relay::recovery
