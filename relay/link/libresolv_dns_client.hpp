// LibresolvDnsClient: the production DnsClient, glibc's thread-safe resolver API (res_nquery,
// ns_initparse, ns_parserr) with a private resolver state per lookup, so lookups may run on any
// worker thread. Blocking: never call it on the io thread.
#pragma once

#include <boost/asio/ip/udp.hpp>

#include <optional>
#include <utility>

#include "relay/link/dispatcher_resolution.hpp"

namespace mpx::relay::link {

class LibresolvDnsClient final : public DnsClient {
 public:
  // nullopt: the servers of /etc/resolv.conf; otherwise only `nameserver` (tests, diagnostics).
  explicit LibresolvDnsClient(
      std::optional<boost::asio::ip::udp::endpoint> nameserver = std::nullopt)
      : nameserver_(std::move(nameserver)) {}

  Result<std::vector<std::string>> srv_targets(const std::string& name) override;
  Result<std::vector<boost::asio::ip::address_v4>> a_records(const std::string& name) override;

 private:
  std::optional<boost::asio::ip::udp::endpoint> nameserver_;
};

}  // namespace mpx::relay::link
