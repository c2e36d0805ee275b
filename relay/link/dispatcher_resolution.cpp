// resolve_dispatcher: IP literal, else SRV first target, else A (see dispatcher_resolution.hpp).
#include "relay/link/dispatcher_resolution.hpp"

#include <boost/asio/ip/address.hpp>

namespace mpx::relay::link {

namespace {

std::optional<boost::asio::ip::address_v4> parse_ipv4(const std::string& host) {
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address_v4(host, error);
  if (error) {
    return std::nullopt;
  }
  return address;
}

}  // namespace

bool is_ip_literal(const std::string& host) { return parse_ipv4(host).has_value(); }

Result<std::optional<DispatcherId>> resolve_dispatcher(const config::DispatcherAddress& entry,
                                                       DnsClient& dns) {
  if (auto literal = parse_ipv4(entry.host)) {
    return std::optional<DispatcherId>(DispatcherId{*literal, entry.port});
  }
  // Any SRV failure falls back to the A record, as MediaProxy does: SRV is optional.
  std::string target = entry.host;
  if (auto srv = dns.srv_targets("_sip._udp." + entry.host); srv && !srv.value().empty()) {
    target = srv.value().front();
  }
  auto addresses = dns.a_records(target);
  if (!addresses) {
    return Error{"cannot resolve " + target + ": " + addresses.error().message};
  }
  if (addresses.value().empty()) {
    return std::optional<DispatcherId>();
  }
  return std::optional<DispatcherId>(DispatcherId{addresses.value().front(), entry.port});
}

}  // namespace mpx::relay::link
