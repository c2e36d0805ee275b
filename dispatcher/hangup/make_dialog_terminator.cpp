// make_dialog_terminator and its settings (see make_dialog_terminator.hpp), and the disabled
// terminator.
#include "dispatcher/hangup/make_dialog_terminator.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "dispatcher/hangup/datagram_rpc_client.hpp"
#include "dispatcher/hangup/kamailio_terminator.hpp"
#include "dispatcher/hangup/opensips_terminator.hpp"

namespace mpx::dispatcher {
namespace {

class DisabledDialogTerminator final : public DialogTerminator {
 public:
  void end_dialog(const std::string& dialog_id, const std::string& call_id) override {
    spdlog::warn("dialog termination disabled: not ending dialog {} (Call-ID {})", dialog_id,
                 call_id);
  }
};

}  // namespace

DialogTerminatorSettings dialog_terminator_settings(const config::Config& config,
                                                    const std::filesystem::path& runtime_dir) {
  DialogTerminatorSettings settings;
  const bool kamailio = config.dispatcher.sip_proxy == config::SipProxy::kamailio;
  settings.proxy_socket = kamailio ? config.kamailio.socket_path : config.opensips.socket_path;
  settings.reply_socket = runtime_dir / (kamailio ? "kamailio.sock" : "opensips.sock");
  settings.reply_timeout = config.dispatcher.dialog_end_timeout;
  return settings;
}

Result<std::unique_ptr<DialogTerminator>> make_dialog_terminator(
    SipProxyKind kind, boost::asio::any_io_executor executor,
    const DialogTerminatorSettings& settings) {
  if (kind == SipProxyKind::none) {
    return std::unique_ptr<DialogTerminator>(std::make_unique<DisabledDialogTerminator>());
  }
  DatagramRpcClient::Settings client_settings{
      kind == SipProxyKind::opensips ? "OpenSIPS" : "Kamailio", settings.proxy_socket,
      settings.reply_socket, settings.reply_timeout};
  auto client = DatagramRpcClient::open(std::move(executor), std::move(client_settings));
  if (!client) {
    return client.error();
  }
  if (kind == SipProxyKind::opensips) {
    return std::unique_ptr<DialogTerminator>(
        std::make_unique<OpensipsDialogTerminator>(std::move(client).value()));
  }
  return std::unique_ptr<DialogTerminator>(
      std::make_unique<KamailioDialogTerminator>(std::move(client).value()));
}

}  // namespace mpx::dispatcher
