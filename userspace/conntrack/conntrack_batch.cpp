// ConntrackBatch: ctnetlink CREATE / DELETE requests packed into libmnl batches (64 KiB per
// sendto), with every acknowledgement matched back to its request by sequence number.
#include "userspace/conntrack/conntrack_batch.hpp"

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "userspace/conntrack/conntrack_objects.hpp"
#include "userspace/conntrack/flow_text.hpp"

namespace mpx::datapath::conntrack {
namespace {

constexpr std::size_t kBatchLimit = 64 * 1024;
// Each acknowledgement is a separate skb of about 1 KiB truesize: with the default 208 KiB
// receive buffer, a few hundred unread acknowledgements overflow it (ENOBUFS) and are lost.
// Bound the requests per round trip and enlarge the buffer.
constexpr std::size_t kMaxRequestsPerRoundTrip = 256;
constexpr int kReceiveBufferBytes = 4 * 1024 * 1024;
constexpr int kNoAck = -1;
constexpr time_t kAckTimeoutSeconds = 5;

std::string errno_text(int error) { return std::string(std::strerror(error)); }

// Builds the ctnetlink payload of request i into nlh (header already set).
using Builder = std::function<Result<void>(std::size_t, nlmsghdr*)>;

}  // namespace

void ConntrackBatch::SocketCloser::operator()(mnl_socket* socket) const noexcept {
  mnl_socket_close(socket);
}

ConntrackBatch::ConntrackBatch(mnl_socket* socket)
    : socket_(socket), port_id_(mnl_socket_get_portid(socket)) {}
ConntrackBatch::ConntrackBatch(ConntrackBatch&&) noexcept = default;
ConntrackBatch& ConntrackBatch::operator=(ConntrackBatch&&) noexcept = default;
ConntrackBatch::~ConntrackBatch() = default;

Result<ConntrackBatch> ConntrackBatch::open() {
  std::unique_ptr<mnl_socket, SocketCloser> socket(mnl_socket_open(NETLINK_NETFILTER));
  if (!socket) {
    return Error{"conntrack batch: cannot open a netfilter netlink socket: " + errno_text(errno)};
  }
  if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return Error{"conntrack batch: cannot bind the netlink socket: " + errno_text(errno)};
  }
  // Error acknowledgements would otherwise carry a copy of each failed request.
  int one = 1;
  if (mnl_socket_setsockopt(socket.get(), NETLINK_CAP_ACK, &one, sizeof one) < 0) {
    return Error{"conntrack batch: NETLINK_CAP_ACK: " + errno_text(errno)};
  }
  // SO_RCVBUFFORCE ignores rmem_max (we are CAP_NET_ADMIN); plain SO_RCVBUF otherwise.
  const int rcvbuf = kReceiveBufferBytes;
  if (setsockopt(mnl_socket_get_fd(socket.get()), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
                 sizeof rcvbuf) != 0) {
    (void)setsockopt(mnl_socket_get_fd(socket.get()), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
                     sizeof rcvbuf);
  }
  // A lost acknowledgement must not hang the relay.
  timeval timeout{kAckTimeoutSeconds, 0};
  if (setsockopt(mnl_socket_get_fd(socket.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                 sizeof timeout) != 0) {
    return Error{"conntrack batch: SO_RCVTIMEO: " + errno_text(errno)};
  }
  return ConntrackBatch(socket.release());
}

namespace {

// Sends the batch's messages (requests first .. first+count-1, sequence numbers base+first..)
// and waits for each one's acknowledgement.
Result<void> flush(mnl_socket* socket, mnl_nlmsg_batch* batch, unsigned base_seq, std::size_t first,
                   std::size_t count, std::vector<int>& results) {
  if (mnl_socket_sendto(socket, mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch)) < 0) {
    return Error{"conntrack batch: sending " + std::to_string(count) +
                 " requests failed: " + errno_text(errno)};
  }
  std::vector<char> buffer(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE));
  std::size_t pending = count;
  while (pending > 0) {
    const ssize_t received = mnl_socket_recvfrom(socket, buffer.data(), buffer.size());
    if (received < 0) {
      const int error = errno;
      return Error{"conntrack batch: " + std::to_string(pending) + " of " + std::to_string(count) +
                   " acknowledgements missing: " +
                   (error == EAGAIN ? std::string("timed out") : errno_text(error))};
    }
    int left = static_cast<int>(received);
    auto* message = reinterpret_cast<const nlmsghdr*>(buffer.data());
    while (mnl_nlmsg_ok(message, left)) {
      if (message->nlmsg_type == NLMSG_ERROR) {
        const auto* ack = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
        const std::size_t index = message->nlmsg_seq - base_seq;
        if (index >= first && index < first + count && results[index] == kNoAck) {
          results[index] = -ack->error;
          --pending;
        }
      }
      message = mnl_nlmsg_next(message, &left);
    }
  }
  return outcome::success();
}

Result<std::vector<int>> run_batch(mnl_socket* socket, unsigned& next_seq, std::size_t count,
                                   std::uint16_t message_type, std::uint16_t flags,
                                   const Builder& build) {
  std::vector<int> results(count, kNoAck);
  // libmnl lets the message that overflows the limit spill into a second half of the buffer;
  // batch_next() then returns false without counting it, and batch_reset() moves it to the
  // front of the next batch.
  std::vector<char> buffer(2 * kBatchLimit);
  std::unique_ptr<mnl_nlmsg_batch, void (*)(mnl_nlmsg_batch*)> batch(
      mnl_nlmsg_batch_start(buffer.data(), kBatchLimit), mnl_nlmsg_batch_stop);
  if (!batch) {
    return Error{"conntrack batch: out of memory"};
  }
  const unsigned base_seq = next_seq;
  next_seq += static_cast<unsigned>(count);
  std::size_t first = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (i - first == kMaxRequestsPerRoundTrip) {
      auto sent = flush(socket, batch.get(), base_seq, first, i - first, results);
      if (!sent) {
        return sent.error();
      }
      mnl_nlmsg_batch_reset(batch.get());
      first = i;
    }
    nlmsghdr* message = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(batch.get()));
    message->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | message_type);
    message->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    message->nlmsg_seq = base_seq + static_cast<unsigned>(i);
    auto* family = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(nfgenmsg)));
    family->nfgen_family = AF_INET;
    family->version = NFNETLINK_V0;
    family->res_id = 0;
    auto built = build(i, message);
    if (!built) {
      return built.error();
    }
    if (!mnl_nlmsg_batch_next(batch.get())) {
      auto sent = flush(socket, batch.get(), base_seq, first, i - first, results);
      if (!sent) {
        return sent.error();
      }
      mnl_nlmsg_batch_reset(batch.get());  // request i becomes the head of the next batch
      first = i;
    }
  }
  if (!mnl_nlmsg_batch_is_empty(batch.get())) {
    auto sent = flush(socket, batch.get(), base_seq, first, count - first, results);
    if (!sent) {
      return sent.error();
    }
  }
  return results;
}

}  // namespace

Result<std::vector<int>> ConntrackBatch::create_nat(std::span<const NatEntrySpec> specs) {
  return run_batch(socket_.get(), next_seq_, specs.size(), IPCTNL_MSG_CT_NEW,
                   NLM_F_CREATE | NLM_F_EXCL,
                   [&](std::size_t i, nlmsghdr* message) -> Result<void> {
                     auto ct = nat_object(specs[i]);
                     if (!ct) {
                       return ct.error();
                     }
                     nfct_nlmsg_build(message, ct.value().get());
                     return outcome::success();
                   });
}

Result<std::vector<int>> ConntrackBatch::destroy(
    std::span<const std::pair<Endpoint, Endpoint>> tuples) {
  return run_batch(socket_.get(), next_seq_, tuples.size(), IPCTNL_MSG_CT_DELETE, 0,
                   [&](std::size_t i, nlmsghdr* message) -> Result<void> {
                     auto ct = tuple_object(tuples[i].first, tuples[i].second);
                     if (!ct) {
                       return ct.error();
                     }
                     nfct_nlmsg_build(message, ct.value().get());
                     return outcome::success();
                   });
}

}  // namespace mpx::datapath::conntrack
