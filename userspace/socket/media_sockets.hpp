// MediaSockets: the relay's media sockets (one bound IPv4 UDP socket per relay port) read on the
// relay's asio executor, and the in-process forwarding table of the "userspace" datapath.
//
// Receive path: each socket waits for readability (async_wait), then drains with recvmmsg in
// batches of kBatchSize datagrams, at most kBatchesPerWake batches per turn; a socket still busy
// after that continues from a post()ed handler, so one flooded socket cannot starve the others
// and a drained socket goes back to the reactor only when recvmmsg found it empty. A datagram from
// the remote of an installed flow is forwarded (sendmmsg, one call per output socket per batch);
// any other one is "punted" to the Receiver, where the relay latches and relays by itself.
//
// Threading: not thread-safe. Run the executor's io_context on ONE thread; every method must be
// called on it. The Receiver may call any method (open, close, install, remove, send...) except
// running the io_context; a socket closed from the Receiver drops the rest of its batch.
//
// Datagrams longer than 2048 bytes are counted as `truncated` and dropped (message_batch.hpp).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "userspace/datapath.hpp"
#include "userspace/socket/endpoint_key.hpp"
#include "userspace/socket/forwarding_table.hpp"
#include "userspace/socket/message_batch.hpp"

namespace mpx::datapath {

class MediaSockets {
 public:
  struct Packet {
    Endpoint local;   // the relay socket it arrived on
    Endpoint source;  // who sent it
    std::span<const std::uint8_t> data;
    std::chrono::steady_clock::time_point received;  // one reading per receive batch
  };
  // Packets that no installed flow claimed (the relay's latching looks at them). Called on the
  // executor's thread, during the batch; `data` is valid only during the call.
  using Receiver = std::function<void(const Packet&)>;

  struct Stats {
    std::uint64_t received_packets = 0;  // every datagram read, truncated ones included
    std::uint64_t received_bytes = 0;    // their lengths on the wire
    std::uint64_t forwarded_packets = 0;  // sent by an installed flow
    std::uint64_t forwarded_bytes = 0;
    std::uint64_t punted_packets = 0;  // handed to the Receiver
    std::uint64_t send_errors = 0;     // datagrams the kernel refused (forwarding and send())
    std::uint64_t receive_errors = 0;  // recvmmsg failures other than EAGAIN / EINTR
    std::uint64_t truncated = 0;       // longer than a receive slot (2048 bytes): dropped
    // Added members:
    std::uint64_t sent_packets = 0;  // sent by send()
    std::uint64_t sent_bytes = 0;
    std::uint64_t transmit_skipped = 0;  // flow packets not sent because of transmit_every
  };

  static constexpr int kReceiveBufferBytes = 256 * 1024;
  static constexpr std::size_t kBatchSize = socket_detail::kBatchSize;
  static constexpr std::size_t kSlotSize = socket_detail::kSlotSize;
  static constexpr int kBatchesPerWake = 8;

  // Reads nothing until start(): sockets opened before wait with their datagrams queued in the
  // kernel, so whoever receives them can be built after the sockets (the relay's engine needs
  // the sockets to send).
  explicit MediaSockets(boost::asio::any_io_executor executor);
  // Started at once: the same as MediaSockets(executor) followed by start(receiver).
  MediaSockets(boost::asio::any_io_executor executor, Receiver receiver);
  // Closes every socket; handlers still queued in the io_context then do nothing.
  ~MediaSockets();
  MediaSockets(const MediaSockets&) = delete;
  MediaSockets& operator=(const MediaSockets&) = delete;

  // Starts reading every open socket (and each one opened later); packets no flow claims go to
  // `receiver` (a null one only counts them). Once only.
  void start(Receiver receiver);
  bool started() const { return started_; }

  // Binds a non-blocking UDP socket to `local` (a specific IPv4 address and a non-zero port) and
  // reads it once started. Errors: 0.0.0.0, port 0, IPv6, already open, or the kernel's reason
  // ("bind 203.0.113.1:40000: Address already in use"). SO_RCVBUF is raised to
  // kReceiveBufferBytes when allowed (the kernel caps it at net.core.rmem_max).
  Result<void> open(const Endpoint& local);
  // No-op if not open; removes the installed flows that use the socket first.
  void close(const Endpoint& local);
  bool is_open(const Endpoint& local) const;
  std::size_t open_count() const { return sockets_.size(); }

  // Sends one datagram from the socket bound to `local` (best effort, not subject to
  // transmit_every). Failures are counted in send_errors and returned.
  Result<void> send(const Endpoint& local, const Endpoint& destination,
                    std::span<const std::uint8_t> data);

  const Stats& stats() const { return stats_; }

  // MediaProxy's hidden userspace_transmit_every: only every n-th packet of a flow direction is
  // sent (the n-th, 2n-th, ...); the others are counted in the flow's counters and in
  // transmit_skipped, then dropped. Default 1 (every packet); 0 is taken as 1.
  void set_transmit_every(std::uint32_t n) { transmit_every_ = n == 0 ? 1 : n; }
  std::uint32_t transmit_every() const { return transmit_every_; }

  // ---- the in-process forwarding table used by UserspaceDatapath ----
  // While a flow is installed, packets from caller_remote arriving at caller_local are sent from
  // callee_local to callee_remote and packets from callee_remote arriving at callee_local from
  // caller_local to caller_remote; packets from any other source still go to the Receiver.
  // Counters count every packet the flow received (before transmit_every and send errors),
  // per direction, with last_activity = the receive time of the latest one.
  // Errors: a local socket not open, a leg (local + remote) already used by an installed flow,
  // a remote 0.0.0.0 / port 0, non-IPv4 endpoints.
  Result<void> install(const Flow& flow);
  // The flow's final counters; an error if it is not installed (exactly this Flow).
  Result<FlowCounters> remove(const Flow& flow);
  Result<FlowCounters> counters(const Flow& flow) const;
  std::vector<Flow> flows() const { return table_.flows(); }

 private:
  struct Socket;

  void arm(const std::shared_ptr<Socket>& socket);
  void on_readable(const std::shared_ptr<Socket>& socket);
  // Up to kBatchesPerWake batches; true when the budget ran out with data probably left.
  bool drain(Socket& socket);
  // Forwards or punts `count` received datagrams; stops early if the socket gets closed.
  void dispatch(Socket& socket, std::size_t count, std::chrono::steady_clock::time_point now);
  void flush_forwarded();
  Socket* find(const Endpoint& local) const;

  boost::asio::any_io_executor executor_;
  Receiver receiver_;
  bool started_ = false;
  std::unordered_map<socket_detail::EndpointKey, std::shared_ptr<Socket>> sockets_;
  socket_detail::ForwardingTable table_;
  socket_detail::ReceiveBatch receive_batch_;
  socket_detail::SendBatch send_batch_;
  Stats stats_;
  std::uint32_t transmit_every_ = 1;
};

}  // namespace mpx::datapath
