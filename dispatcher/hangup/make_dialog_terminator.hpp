// Chooses the dialog terminator for the configured SIP proxy: OpenSIPS (MediaProxy's only
// choice), Kamailio, or none (hang-ups disabled: each request is logged and dropped).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string_view>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "dispatcher/hangup/dialog_terminator.hpp"

namespace mpx::dispatcher {

// The kind comes from [Dispatcher] sip_proxy (common/config).
using SipProxyKind = config::SipProxy;

struct DialogTerminatorSettings {
  // OpenSIPS: [OpenSIPS] socket_path (its mi_datagram socket_name), default /run/opensips/socket.
  // Kamailio: jsonrpcs' dgram_socket, e.g. /run/kamailio/kamailio_rpc.sock.
  std::filesystem::path proxy_socket = "/run/opensips/socket";
  // Our reply socket: <runtime_dir>/opensips.sock (spec 6.6) or <runtime_dir>/kamailio.sock.
  std::filesystem::path reply_socket = "/run/mediaproxy/opensips.sock";
  std::chrono::milliseconds reply_timeout{3000};
};

// From the configuration: the chosen proxy's socket ([OpenSIPS] or [Kamailio] socket_path), our
// reply socket in `runtime_dir` named after the proxy, and [Dispatcher] dialog_end_timeout.
DialogTerminatorSettings dialog_terminator_settings(const config::Config& config,
                                                    const std::filesystem::path& runtime_dir);

// Errors: the reply socket cannot be bound (see DatagramRpcClient::open). `none` never fails.
Result<std::unique_ptr<DialogTerminator>> make_dialog_terminator(
    SipProxyKind kind, boost::asio::any_io_executor executor,
    const DialogTerminatorSettings& settings);

}  // namespace mpx::dispatcher
