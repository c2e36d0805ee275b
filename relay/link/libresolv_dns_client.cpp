// LibresolvDnsClient (see libresolv_dns_client.hpp). A lookup that finds no such name or no
// record of the type is an empty answer; other failures (timeout, SERVFAIL) are errors so the
// caller keeps the addresses it had.
#include "relay/link/libresolv_dns_client.hpp"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <array>
#include <cstring>
#include <functional>

namespace mpx::relay::link {

namespace {

// Runs `query` of `type` for `name` and calls `on_record` for each answer record of that type.
// Returns an empty-answer success for NXDOMAIN / NODATA.
Result<void> query(const std::optional<boost::asio::ip::udp::endpoint>& nameserver,
                   const std::string& name, int type,
                   const std::function<void(const ns_msg&, const ns_rr&)>& on_record) {
  struct __res_state state;
  std::memset(&state, 0, sizeof state);
  if (res_ninit(&state) != 0) {
    return Error{"cannot initialise the resolver"};
  }
  if (nameserver && nameserver->address().is_v4()) {
    std::memcpy(&state.nsaddr_list[0], nameserver->data(), sizeof(sockaddr_in));
    state.nscount = 1;
  }
  std::array<unsigned char, 4096> answer{};
  const int length = res_nquery(&state, name.c_str(), ns_c_in, type, answer.data(),
                                static_cast<int>(answer.size()));
  const int h_error = state.res_h_errno;
  res_nclose(&state);
  if (length < 0) {
    if (h_error == HOST_NOT_FOUND || h_error == NO_DATA) {
      return outcome::success();
    }
    return Error{h_error == TRY_AGAIN ? "DNS lookup timed out or the server failed"
                                      : "DNS lookup failed"};
  }
  ns_msg message;
  if (ns_initparse(answer.data(), length, &message) != 0) {
    return Error{"malformed DNS answer"};
  }
  const int count = ns_msg_count(message, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr record;
    if (ns_parserr(&message, ns_s_an, i, &record) != 0) {
      return Error{"malformed DNS answer record"};
    }
    if (ns_rr_type(record) == type) {
      on_record(message, record);
    }
  }
  return outcome::success();
}

}  // namespace

Result<std::vector<std::string>> LibresolvDnsClient::srv_targets(const std::string& name) {
  std::vector<std::string> targets;
  auto done = query(nameserver_, name, ns_t_srv, [&](const ns_msg& message, const ns_rr& record) {
    // SRV rdata: priority, weight, port (2 bytes each), then the (compressed) target name.
    if (ns_rr_rdlen(record) <= 6) {
      return;
    }
    std::array<char, NS_MAXDNAME> target{};
    if (dn_expand(ns_msg_base(message), ns_msg_end(message), ns_rr_rdata(record) + 6, target.data(),
                  static_cast<int>(target.size())) < 0) {
      return;
    }
    std::string text(target.data());
    if (!text.empty() && text != ".") {
      targets.push_back(std::move(text));
    }
  });
  if (!done) {
    return done.error();
  }
  return targets;
}

Result<std::vector<boost::asio::ip::address_v4>> LibresolvDnsClient::a_records(
    const std::string& name) {
  std::vector<boost::asio::ip::address_v4> addresses;
  auto done = query(nameserver_, name, ns_t_a, [&](const ns_msg&, const ns_rr& record) {
    if (ns_rr_rdlen(record) != 4) {
      return;
    }
    boost::asio::ip::address_v4::bytes_type bytes{};
    std::memcpy(bytes.data(), ns_rr_rdata(record), bytes.size());
    addresses.emplace_back(bytes);
  });
  if (!done) {
    return done.error();
  }
  return addresses;
}

}  // namespace mpx::relay::link
