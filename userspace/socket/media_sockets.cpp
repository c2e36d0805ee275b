// MediaSockets: opening and closing the bound sockets, the recvmmsg receive loop with its
// forward-or-punt dispatch, send(), and the forwarding-table entry points.
#include "userspace/socket/media_sockets.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace mpx::datapath {

using socket_detail::endpoint_text;
using socket_detail::flow_text;
using socket_detail::key_of;

struct MediaSockets::Socket {
  Socket(const boost::asio::any_io_executor& executor, const Endpoint& bound)
      : socket(executor), local(bound), key(key_of(bound)) {}

  boost::asio::ip::udp::socket socket;
  Endpoint local;
  socket_detail::EndpointKey key;
  int fd = -1;  // the socket's descriptor once bound (native_handle() is not const)
  // Cleared by close() and the destructor: handlers already queued must then do nothing (they
  // keep the Socket alive through their shared_ptr, but MediaSockets may be gone).
  bool open = true;
};

namespace {

std::string errno_text(int error) { return std::system_category().message(error); }

}  // namespace

MediaSockets::MediaSockets(boost::asio::any_io_executor executor)
    : executor_(std::move(executor)) {}

MediaSockets::MediaSockets(boost::asio::any_io_executor executor, Receiver receiver)
    : MediaSockets(std::move(executor)) {
  start(std::move(receiver));
}

void MediaSockets::start(Receiver receiver) {
  if (started_) {
    return;
  }
  started_ = true;
  receiver_ = std::move(receiver);
  for (auto& [key, socket] : sockets_) {
    arm(socket);
  }
}

MediaSockets::~MediaSockets() {
  for (auto& [key, socket] : sockets_) {
    socket->open = false;
    boost::system::error_code ignored;
    socket->socket.close(ignored);
  }
}

MediaSockets::Socket* MediaSockets::find(const Endpoint& local) const {
  if (!local.address().is_v4()) return nullptr;
  const auto it = sockets_.find(key_of(local));
  return it == sockets_.end() ? nullptr : it->second.get();
}

bool MediaSockets::is_open(const Endpoint& local) const { return find(local) != nullptr; }

Result<void> MediaSockets::open(const Endpoint& local) {
  const std::string where = endpoint_text(local);
  if (!local.address().is_v4()) return Error{"open " + where + ": only IPv4 is supported"};
  if (local.address().is_unspecified()) {
    return Error{"open " + where + ": a specific IPv4 address is required, not 0.0.0.0"};
  }
  if (local.port() == 0) return Error{"open " + where + ": port 0 is not allowed"};
  if (find(local) != nullptr) return Error{"open " + where + ": already open"};

  auto socket = std::make_shared<Socket>(executor_, local);
  boost::system::error_code ec;
  socket->socket.open(boost::asio::ip::udp::v4(), ec);
  if (ec) return Error{"socket for " + where + ": " + ec.message()};
  // Not inherited by helper processes the relay may spawn.
  ::fcntl(socket->socket.native_handle(), F_SETFD, FD_CLOEXEC);
  // Best effort: above net.core.rmem_max the kernel silently caps it.
  boost::system::error_code ignored;
  socket->socket.set_option(boost::asio::socket_base::receive_buffer_size(kReceiveBufferBytes),
                            ignored);
  socket->socket.bind(local, ec);
  if (ec) return Error{"bind " + where + ": " + ec.message()};
  socket->socket.non_blocking(true, ec);
  if (ec) return Error{"non-blocking mode for " + where + ": " + ec.message()};

  socket->fd = socket->socket.native_handle();
  sockets_.emplace(socket->key, socket);
  if (started()) {
    arm(socket);
  }
  return outcome::success();
}

void MediaSockets::close(const Endpoint& local) {
  Socket* socket = find(local);
  if (socket == nullptr) return;
  // Flows first: an installed direction's output fd must never outlive its socket.
  table_.remove_using(socket->key);
  socket->open = false;
  boost::system::error_code ignored;
  socket->socket.close(ignored);
  sockets_.erase(socket->key);
}

void MediaSockets::arm(const std::shared_ptr<Socket>& socket) {
  socket->socket.async_wait(boost::asio::ip::udp::socket::wait_read,
                            [this, socket](const boost::system::error_code& ec) {
                              if (ec || !socket->open) return;
                              on_readable(socket);
                            });
}

void MediaSockets::on_readable(const std::shared_ptr<Socket>& socket) {
  const bool more = drain(*socket);
  if (!socket->open) return;
  if (more) {
    // Datagrams are still queued: continue after the other ready handlers (fairness) rather
    // than re-arming, which would cost an epoll_ctl and an epoll_wait to learn the same thing,
    // and which relies on the reactor re-checking readiness of an edge-triggered descriptor.
    boost::asio::post(executor_, [this, socket] {
      if (socket->open) on_readable(socket);
    });
  } else {
    arm(socket);
  }
}

bool MediaSockets::drain(Socket& socket) {
  const int fd = socket.fd;
  for (int round = 0; round < kBatchesPerWake; ++round) {
    const int received = receive_batch_.receive(fd);
    if (received < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.receive_errors;
      return false;
    }
    const auto count = static_cast<std::size_t>(received);
    dispatch(socket, count, std::chrono::steady_clock::now());
    if (!socket.open) return false;
    // A short batch means the queue was empty: what arrives next raises a new edge.
    if (count < kBatchSize) return false;
  }
  return true;
}

void MediaSockets::dispatch(Socket& socket, std::size_t count,
                            std::chrono::steady_clock::time_point now) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t length = receive_batch_.length(i);
    ++stats_.received_packets;
    stats_.received_bytes += length;
    if (receive_batch_.truncated(i)) {
      ++stats_.truncated;
      continue;
    }
    const sockaddr_in& source = receive_batch_.source(i);
    if (socket_detail::Direction* direction = table_.find(socket.key, key_of(source))) {
      ++*direction->packets;
      *direction->bytes += length;
      *direction->last_activity = now;
      ++direction->sequence;
      if (transmit_every_ != 1 && direction->sequence % transmit_every_ != 0) {
        ++stats_.transmit_skipped;
        continue;
      }
      send_batch_.add(direction->out_fd, direction->destination, receive_batch_.data(i));
      continue;
    }
    // The Receiver may install, remove or close anything: nothing queued may refer to state it
    // could change, so the forwarded datagrams so far leave first.
    flush_forwarded();
    ++stats_.punted_packets;
    if (receiver_) {
      receiver_(Packet{socket.local, socket_detail::endpoint_of(source), receive_batch_.data(i),
                       now});
    }
    if (!socket.open) return;
  }
  flush_forwarded();
}

void MediaSockets::flush_forwarded() {
  if (send_batch_.empty()) return;
  const auto outcome = send_batch_.flush();
  stats_.forwarded_packets += outcome.sent_packets;
  stats_.forwarded_bytes += outcome.sent_bytes;
  stats_.send_errors += outcome.failed;
}

Result<void> MediaSockets::send(const Endpoint& local, const Endpoint& destination,
                                std::span<const std::uint8_t> data) {
  const Socket* socket = find(local);
  if (socket == nullptr) {
    return Error{"send from " + endpoint_text(local) + ": socket not open"};
  }
  if (!destination.address().is_v4()) {
    ++stats_.send_errors;
    return Error{"send " + endpoint_text(local) + " -> " + endpoint_text(destination) +
                 ": only IPv4 destinations are supported"};
  }
  const sockaddr_in address = socket_detail::sockaddr_of(destination);
  ssize_t sent = -1;
  do {
    sent = ::sendto(socket->fd, data.data(), data.size(), MSG_DONTWAIT,
                    reinterpret_cast<const sockaddr*>(&address), sizeof address);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    const int error = errno;
    ++stats_.send_errors;
    return Error{"send " + endpoint_text(local) + " -> " + endpoint_text(destination) + ": " +
                 errno_text(error)};
  }
  ++stats_.sent_packets;
  stats_.sent_bytes += static_cast<std::uint64_t>(sent);
  return outcome::success();
}

Result<void> MediaSockets::install(const Flow& flow) {
  const Socket* caller = find(flow.caller_local);
  const Socket* callee = find(flow.callee_local);
  if (caller == nullptr || callee == nullptr) {
    const Endpoint& missing = caller == nullptr ? flow.caller_local : flow.callee_local;
    return Error{"userspace datapath: install " + flow_text(flow) + ": local socket " +
                 endpoint_text(missing) + " is not open"};
  }
  return table_.install(flow, caller->fd, callee->fd);
}

Result<FlowCounters> MediaSockets::remove(const Flow& flow) { return table_.remove(flow); }

Result<FlowCounters> MediaSockets::counters(const Flow& flow) const {
  return table_.counters(flow);
}

}  // namespace mpx::datapath
