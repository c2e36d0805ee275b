// OpensipsDialogTerminator: ends a dialog through OpenSIPS's MI (mi_datagram, JSON-RPC
// `dlg_end_dlg`, compat spec 6.6). The module's decimal dialog_id is converted to the dialog's
// own id "<h_entry hex>.<h_id>" (dialog_id.hpp), which OpenSIPS 3.x accepts; when OpenSIPS says
// the dialog is not found, the request is repeated once with the Call-ID. An "h_entry:h_id"
// dialog_id (older modules) is converted the same way; anything else goes straight to the
// Call-ID. Outcomes are logged, never thrown.
#pragma once

#include <memory>
#include <string>

#include "dispatcher/hangup/datagram_rpc_client.hpp"
#include "dispatcher/hangup/dialog_terminator.hpp"

namespace mpx::dispatcher {

class OpensipsDialogTerminator final : public DialogTerminator {
 public:
  explicit OpensipsDialogTerminator(std::shared_ptr<DatagramRpcClient> client);
  ~OpensipsDialogTerminator() override;
  OpensipsDialogTerminator(const OpensipsDialogTerminator&) = delete;
  OpensipsDialogTerminator& operator=(const OpensipsDialogTerminator&) = delete;

  void end_dialog(const std::string& dialog_id, const std::string& call_id) override;

 private:
  std::shared_ptr<DatagramRpcClient> client_;
};

// OpenSIPS's "dialog not found" answer: code 404, or a message saying "not found".
bool is_dialog_not_found(const RpcOutcome& outcome);

}  // namespace mpx::dispatcher
