// Hanging up calls whose media died (compat spec 6.4, 6.6): the dispatcher asks the SIP proxy to
// end the dialog. OpenSIPS: JSON-RPC `dlg_end_dlg` over its mi_datagram UNIX socket; Kamailio:
// JSON-RPC `dlg.end_dlg` over jsonrpcs' datagram socket. Fire-and-forget from the caller's view:
// failures and timeouts are logged, never thrown.
#pragma once

#include <string>

namespace mpx::dispatcher {

class DialogTerminator {
 public:
  virtual ~DialogTerminator() = default;
  // dialog_id as the module sent it (OpenSIPS: decimal (h_entry << 32) | h_id; Kamailio:
  // "h_entry:h_id"); call_id of the session, usable as a fallback identifier.
  virtual void end_dialog(const std::string& dialog_id, const std::string& call_id) = 0;
};

}  // namespace mpx::dispatcher
