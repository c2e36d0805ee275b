// KamailioDialogTerminator: ends a dialog through Kamailio's jsonrpcs datagram transport
// (modparam("jsonrpcs", "dgram_socket", ...)) with the dialog module's RPC `dlg.end_dlg`, whose
// parameters are h_entry and h_id as integers, taken from the module's "h_entry:h_id" dialog_id.
// Kamailio answers {"jsonrpc":"2.0","result":{},"id":...} or an "error" object such as
// {"code":404,"message":"Dialog not found"}. Outcomes are logged, never thrown.
#pragma once

#include <memory>
#include <string>

#include "dispatcher/hangup/datagram_rpc_client.hpp"
#include "dispatcher/hangup/dialog_terminator.hpp"

namespace mpx::dispatcher {

class KamailioDialogTerminator final : public DialogTerminator {
 public:
  explicit KamailioDialogTerminator(std::shared_ptr<DatagramRpcClient> client);
  ~KamailioDialogTerminator() override;
  KamailioDialogTerminator(const KamailioDialogTerminator&) = delete;
  KamailioDialogTerminator& operator=(const KamailioDialogTerminator&) = delete;

  void end_dialog(const std::string& dialog_id, const std::string& call_id) override;

 private:
  std::shared_ptr<DatagramRpcClient> client_;
};

}  // namespace mpx::dispatcher
