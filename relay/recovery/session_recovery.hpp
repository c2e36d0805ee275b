// What a restarted relay does with the state file: capture_state() turns the live sessions and
// their media state into the document state_file.hpp writes; recover_sessions() re-creates a
// previous process's sessions whose flows the kernel still forwards; take_over() is the whole
// restart step, leftovers included. Sessions go back into the SessionManager and the
// MediaEngine exactly as they were, with their ports bound again and their flows taken over
// without a packet lost.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "relay/engine/media_engine.hpp"
#include "relay/link/dispatcher_id.hpp"
#include "relay/recovery/state_file.hpp"
#include "relay/session/session_manager.hpp"
#include "userspace/datapath.hpp"

namespace mpx::relay::recovery {

// Every session with the media state of its alive streams, as the state file holds them.
RelayState capture_state(const session::SessionManager& sessions,
                         const engine::MediaEngine& engine, const std::string& datapath);

// What recover_sessions() did: the sessions re-created, those dropped (with why), and the flows
// the recovered sessions use (every other flow a previous process left is to be removed).
struct RecoveryReport {
  std::vector<std::string> recovered;  // call ids
  std::vector<std::string> dropped;    // "call id: reason"
  std::vector<datapath::Flow> flows;
};

// Answers whether the datapath holds this flow (in this orientation) and takes it as installed
// (Datapath::claim_adopted).
using ClaimFlow = std::function<Result<void>(const datapath::Flow&)>;

// A session is recovered when it has an alive stream, every alive stream's RTP flow was handed
// off, every persisted flow is claimed, and its ports can be bound again; otherwise it is
// dropped. One log line per session either way.
RecoveryReport recover_sessions(const RelayState& state, session::SessionManager& sessions,
                                engine::MediaEngine& engine, const ClaimFlow& claim);

// The restart step of a relay whose datapath's flows outlive the process: reads `state_file`,
// recovers what it can (a missing or unusable file, or one written by another datapath,
// recovers nothing and says why), removes every other flow the previous process left, and logs
// a one-line summary.
void take_over(datapath::Datapath& datapath, const std::filesystem::path& state_file,
               session::SessionManager& sessions, engine::MediaEngine& engine);

}  // namespace mpx::relay::recovery
