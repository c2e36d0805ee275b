// A previous relay process's sessions captured and re-created; see session_recovery.hpp.
#include "relay/recovery/session_recovery.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace mpx::relay::recovery {
namespace {

const engine::StreamRecovery* media_of(const RecoveredSession& recovered, session::StreamId id) {
  for (const auto& media : recovered.media) {
    if (media.id == id) {
      return &media;
    }
  }
  return nullptr;
}

// The session's summary line, or why it cannot be recovered (nothing changed then).
Result<std::string> recover_session(const RecoveredSession& recovered,
                                    session::SessionManager& sessions,
                                    engine::MediaEngine& engine, const ClaimFlow& claim,
                                    std::vector<datapath::Flow>& flows) {
  const auto& snapshot = recovered.session;
  std::vector<datapath::Flow> wanted;
  std::size_t alive = 0;
  for (const auto& stream : snapshot.streams) {
    if (!stream.alive || !stream.has_ports) {
      continue;
    }
    ++alive;
    const auto* media = media_of(recovered, stream.id);
    if (!media || !media->rtp.installed) {
      return Error{"stream " + std::to_string(stream.id) + " (" + stream.media_type +
                   ") was not handed off to the datapath"};
    }
    for (const auto* sub : {&media->rtp, &media->rtcp}) {
      if (sub->installed) {
        wanted.push_back(*sub->installed);
      }
    }
  }
  if (alive == 0) {
    return Error{"no alive stream"};
  }
  if (!link::DispatcherId::parse(snapshot.origin)) {
    return Error{"bad dispatcher \"" + snapshot.origin + "\""};
  }
  for (const auto& flow : wanted) {
    if (auto claimed = claim(flow); !claimed) {
      return Error{"flow gone: " + claimed.error().message};
    }
  }
  if (auto restored = sessions.restore(snapshot); !restored) {
    return restored.error();
  }
  engine::SignalingHints hints;
  hints.caller = snapshot.caller_signaling_ip;
  hints.callee = snapshot.callee_signaling_ip ? snapshot.callee_signaling_ip
                                              : snapshot.signaling.destination_ip;
  for (const auto& stream : snapshot.streams) {
    if (stream.alive && stream.has_ports) {
      engine.restore_stream(stream, *media_of(recovered, stream.id), hints);
    }
  }
  flows.insert(flows.end(), wanted.begin(), wanted.end());
  return std::to_string(alive) + " stream(s), " + std::to_string(wanted.size()) +
         " flow(s), dispatcher " + snapshot.origin;
}

}  // namespace

RelayState capture_state(const session::SessionManager& sessions,
                         const engine::MediaEngine& engine, const std::string& datapath) {
  RelayState state;
  state.datapath = datapath;
  for (auto& snapshot : sessions.snapshots()) {
    RecoveredSession saved;
    for (const auto& stream : snapshot.streams) {
      if (stream.alive && stream.has_ports) {
        if (auto media = engine.recovery_state(stream.id)) {
          saved.media.push_back(*media);
        }
      }
    }
    saved.session = std::move(snapshot);
    state.sessions.push_back(std::move(saved));
  }
  return state;
}

RecoveryReport recover_sessions(const RelayState& state, session::SessionManager& sessions,
                                engine::MediaEngine& engine, const ClaimFlow& claim) {
  RecoveryReport report;
  for (const auto& recovered : state.sessions) {
    const auto& key = recovered.session.key;
    auto outcome = recover_session(recovered, sessions, engine, claim, report.flows);
    if (outcome) {
      spdlog::info("recovered session {} (from_tag {}): {}", key.first, key.second,
                   outcome.value());
      report.recovered.push_back(key.first);
    } else {
      spdlog::warn("dropped session {} (from_tag {}) of the previous relay: {}", key.first,
                   key.second, outcome.error().message);
      report.dropped.push_back(key.first + ": " + outcome.error().message);
    }
  }
  return report;
}

void take_over(datapath::Datapath& datapath, const std::filesystem::path& state_file,
               session::SessionManager& sessions, engine::MediaEngine& engine) {
  RecoveryReport report;
  auto loaded = read_state_file(state_file);
  if (!loaded) {
    spdlog::error("state file unusable, no session recovered: {}", loaded.error().message);
  } else if (loaded.value() && loaded.value()->datapath != datapath.name()) {
    spdlog::warn("state file {} was written with datapath {}, not {}: no session recovered",
                 state_file.string(), loaded.value()->datapath, datapath.name());
  } else if (loaded.value()) {
    report = recover_sessions(*loaded.value(), sessions, engine,
                              [&datapath](const datapath::Flow& flow) {
                                return datapath.claim_adopted(flow);
                              });
  }
  std::vector<datapath::Flow> leftovers;
  for (const auto& flow : datapath.flows()) {
    if (std::find(report.flows.begin(), report.flows.end(), flow) == report.flows.end()) {
      leftovers.push_back(flow);
    }
  }
  if (!leftovers.empty()) {
    std::size_t removed = 0;
    for (const auto& result : datapath.remove_batch(leftovers)) {
      removed += result ? 1U : 0U;
    }
    spdlog::warn("{} datapath: removed {} flow(s) a previous relay left in {}", datapath.name(),
                 removed, datapath.leftovers_location());
  }
  if (loaded && loaded.value()) {
    spdlog::info("restart: {} session(s) recovered, {} dropped; {} flow(s) re-adopted, {} removed",
                 report.recovered.size(), report.dropped.size(), report.flows.size(),
                 leftovers.size());
  }
}

}  // namespace mpx::relay::recovery
