// ConntrackBatch: many ctnetlink requests per sendto() through libmnl message batches, for
// installing or removing thousands of flows at once (a relay restart, a dispatcher reconnect, a
// mass hang-up). Each request is acknowledged separately; the result says, per request, the
// kernel's errno (0 = done). One netlink socket bound to the network namespace the calling
// thread was in at open(). Not thread-safe.
#pragma once

#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "userspace/conntrack/conntrack_table.hpp"

struct mnl_socket;

namespace mpx::datapath::conntrack {

class ConntrackBatch {
 public:
  static Result<ConntrackBatch> open();

  ConntrackBatch(ConntrackBatch&&) noexcept;
  ConntrackBatch& operator=(ConntrackBatch&&) noexcept;
  ~ConntrackBatch();

  // CREATE (exclusive) for every spec; per spec 0 or the errno (EEXIST: an entry is in the way).
  Result<std::vector<int>> create_nat(std::span<const NatEntrySpec> specs);
  // DESTROY the entry found by each src -> dst; per tuple 0 or the errno (ENOENT: none).
  Result<std::vector<int>> destroy(std::span<const std::pair<Endpoint, Endpoint>> tuples);

 private:
  struct SocketCloser {
    void operator()(mnl_socket* socket) const noexcept;
  };
  explicit ConntrackBatch(mnl_socket* socket);

  std::unique_ptr<mnl_socket, SocketCloser> socket_;
  unsigned port_id_ = 0;
  unsigned next_seq_ = 1;
};

}  // namespace mpx::datapath::conntrack
