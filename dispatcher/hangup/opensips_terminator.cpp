// OpensipsDialogTerminator (see opensips_terminator.hpp).
#include "dispatcher/hangup/opensips_terminator.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <spdlog/spdlog.h>

#include <utility>

#include "dispatcher/hangup/dialog_id.hpp"

namespace mpx::dispatcher {
namespace {

constexpr const char* kMethod = "dlg_end_dlg";

void end_by_call_id(const std::shared_ptr<DatagramRpcClient>& client, const std::string& call_id,
                    const std::string& dialog_id) {
  if (call_id.empty()) {
    spdlog::error("OpenSIPS MI: cannot end dialog {}: no Call-ID to fall back on", dialog_id);
    return;
  }
  client->call(kMethod, nlohmann::ordered_json::array({call_id}),
               [call_id, dialog_id](const RpcOutcome& outcome) {
                 if (outcome.kind == RpcOutcome::Kind::result) {
                   spdlog::info("OpenSIPS MI: ended dialog {} by Call-ID {}", dialog_id, call_id);
                 } else {
                   spdlog::error("OpenSIPS MI: dlg_end_dlg for Call-ID {} (dialog_id {}) failed: {}",
                                 call_id, dialog_id, describe(outcome));
                 }
               });
}

}  // namespace

bool is_dialog_not_found(const RpcOutcome& outcome) {
  return outcome.kind == RpcOutcome::Kind::error &&
         ((outcome.code && *outcome.code == 404) ||
          boost::algorithm::icontains(outcome.message, "not found"));
}

OpensipsDialogTerminator::OpensipsDialogTerminator(std::shared_ptr<DatagramRpcClient> client)
    : client_(std::move(client)) {}

OpensipsDialogTerminator::~OpensipsDialogTerminator() { client_->close(); }

void OpensipsDialogTerminator::end_dialog(const std::string& dialog_id,
                                          const std::string& call_id) {
  auto hash_id = parse_opensips_dialog_id(dialog_id);
  if (!hash_id) {
    // Older modules send "h_entry:h_id"; keep the decimal parser's error for the log otherwise.
    if (const auto colon_form = parse_kamailio_dialog_id(dialog_id)) {
      hash_id = colon_form.value();
    }
  }
  if (!hash_id) {
    spdlog::warn("OpenSIPS MI: {}; ending the dialog by Call-ID {}", hash_id.error().message,
                 call_id);
    end_by_call_id(client_, call_id, dialog_id);
    return;
  }
  const std::string did = opensips_dialog_did(hash_id.value());
  client_->call(kMethod, nlohmann::ordered_json::array({did}),
                [client = client_, did, dialog_id, call_id](const RpcOutcome& outcome) {
                  if (outcome.kind == RpcOutcome::Kind::result) {
                    spdlog::info("OpenSIPS MI: ended dialog {} (dialog_id {}, Call-ID {})", did,
                                 dialog_id, call_id);
                  } else if (is_dialog_not_found(outcome)) {
                    spdlog::warn("OpenSIPS MI: dialog {} (dialog_id {}) not found ({}); retrying "
                                 "with Call-ID {}",
                                 did, dialog_id, describe(outcome), call_id);
                    end_by_call_id(client, call_id, dialog_id);
                  } else {
                    spdlog::error("OpenSIPS MI: dlg_end_dlg {} (dialog_id {}, Call-ID {}) "
                                  "failed: {}",
                                  did, dialog_id, call_id, describe(outcome));
                  }
                });
}

}  // namespace mpx::dispatcher
