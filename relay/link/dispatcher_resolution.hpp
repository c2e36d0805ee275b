// Turning one [Relay] dispatchers entry into the address the relay connects to (spec 5.12): an IPv4
// literal as is; otherwise DNS SRV `_sip._udp.<host>`, whose first target is looked up (A) and used
// with the CONFIGURED port (SRV port, priority and weight are ignored, as in MediaProxy); without
// an SRV answer, the host's own A record. DNS comes in through DnsClient, so tests can feed it.
#pragma once

#include <boost/asio/ip/address_v4.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "relay/link/dispatcher_id.hpp"

namespace mpx::relay::link {

// Blocking DNS lookups; called from a worker thread, never from the io thread, one lookup at a
// time per DnsClient. An empty vector means the name has no such record (NXDOMAIN / no data);
// an error means the lookup itself failed (timeout, SERVFAIL): the caller keeps what it had.
class DnsClient {
 public:
  virtual ~DnsClient() = default;
  // SRV targets in answer order, without the trailing dot; targets "." (no service) omitted.
  virtual Result<std::vector<std::string>> srv_targets(const std::string& name) = 0;
  virtual Result<std::vector<boost::asio::ip::address_v4>> a_records(const std::string& name) = 0;
};

// The dispatcher's id; nullopt when DNS has no address for it; an error when DNS failed.
Result<std::optional<DispatcherId>> resolve_dispatcher(const config::DispatcherAddress& entry,
                                                       DnsClient& dns);

// True when `host` is an IPv4 literal (no DNS needed).
bool is_ip_literal(const std::string& host);

}  // namespace mpx::relay::link
