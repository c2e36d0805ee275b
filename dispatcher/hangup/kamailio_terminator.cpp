// KamailioDialogTerminator (see kamailio_terminator.hpp).
#include "dispatcher/hangup/kamailio_terminator.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "dispatcher/hangup/dialog_id.hpp"

namespace mpx::dispatcher {

KamailioDialogTerminator::KamailioDialogTerminator(std::shared_ptr<DatagramRpcClient> client)
    : client_(std::move(client)) {}

KamailioDialogTerminator::~KamailioDialogTerminator() { client_->close(); }

void KamailioDialogTerminator::end_dialog(const std::string& dialog_id,
                                          const std::string& call_id) {
  const auto hash_id = parse_kamailio_dialog_id(dialog_id);
  if (!hash_id) {
    spdlog::error("Kamailio RPC: cannot end the dialog of Call-ID {}: {}", call_id,
                  hash_id.error().message);
    return;
  }
  const auto [h_entry, h_id] = hash_id.value();
  client_->call("dlg.end_dlg", nlohmann::ordered_json::array({h_entry, h_id}),
                [dialog_id, call_id](const RpcOutcome& outcome) {
                  if (outcome.kind == RpcOutcome::Kind::result) {
                    spdlog::info("Kamailio RPC: ended dialog {} (Call-ID {})", dialog_id, call_id);
                  } else {
                    spdlog::error("Kamailio RPC: dlg.end_dlg {} (Call-ID {}) failed: {}",
                                  dialog_id, call_id, describe(outcome));
                  }
                });
}

}  // namespace mpx::dispatcher
