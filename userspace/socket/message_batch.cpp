// ReceiveBatch / SendBatch: recvmmsg and sendmmsg over arrays wired once.
#include "userspace/socket/message_batch.hpp"

#include <cerrno>

namespace mpx::datapath::socket_detail {

ReceiveBatch::ReceiveBatch() : buffer_(kBatchSize * kSlotSize) {
  for (std::size_t i = 0; i < kBatchSize; ++i) {
    iovecs_[i].iov_base = buffer_.data() + i * kSlotSize;
    iovecs_[i].iov_len = kSlotSize;
    msghdr& header = messages_[i].msg_hdr;
    header.msg_name = &sources_[i];
    header.msg_iov = &iovecs_[i];
    header.msg_iovlen = 1;
  }
}

int ReceiveBatch::receive(int fd) {
  // The kernel overwrites the name length and flags of every message it fills.
  for (mmsghdr& message : messages_) {
    message.msg_hdr.msg_namelen = sizeof(sockaddr_in);
    message.msg_hdr.msg_flags = 0;
    message.msg_len = 0;
  }
  int received = -1;
  do {
    // MSG_TRUNC makes msg_len the datagram's real length, so oversized ones are recognisable.
    received = ::recvmmsg(fd, messages_.data(), kBatchSize, MSG_DONTWAIT | MSG_TRUNC, nullptr);
  } while (received < 0 && errno == EINTR);
  return received;
}

void SendBatch::add(int fd, const sockaddr_in& destination, std::span<const std::uint8_t> data) {
  if (count_ == kBatchSize) return;  // cannot happen: one output per received datagram
  pending_[count_++] = Pending{fd, destination, data.data(), data.size()};
}

void SendBatch::send_all(int fd, std::size_t count, Outcome& outcome) {
  std::size_t offset = 0;
  while (offset < count) {
    const int sent = ::sendmmsg(fd, messages_.data() + offset,
                                static_cast<unsigned>(count - offset), MSG_DONTWAIT);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) {
      // sendmmsg reports an error only for the first message it could not send: skip that one.
      ++outcome.failed;
      ++offset;
      continue;
    }
    for (std::size_t i = offset; i < offset + static_cast<std::size_t>(sent); ++i) {
      outcome.sent_bytes += messages_[i].msg_len;
    }
    outcome.sent_packets += static_cast<std::uint64_t>(sent);
    offset += static_cast<std::size_t>(sent);
  }
}

SendBatch::Outcome SendBatch::flush() {
  Outcome outcome;
  // Usually every queued datagram leaves from one socket; several output sockets (flows sharing
  // an input socket) are gathered one socket at a time, keeping queue order within each.
  std::array<bool, kBatchSize> done{};
  for (std::size_t first = 0; first < count_; ++first) {
    if (done[first]) continue;
    const int fd = pending_[first].fd;
    std::size_t count = 0;
    for (std::size_t i = first; i < count_; ++i) {
      if (done[i] || pending_[i].fd != fd) continue;
      done[i] = true;
      Pending& p = pending_[i];
      iovecs_[count].iov_base = const_cast<std::uint8_t*>(p.data);  // sendmmsg does not write
      iovecs_[count].iov_len = p.size;
      msghdr& header = messages_[count].msg_hdr;
      header = msghdr{};
      header.msg_name = &p.destination;
      header.msg_namelen = sizeof(sockaddr_in);
      header.msg_iov = &iovecs_[count];
      header.msg_iovlen = 1;
      messages_[count].msg_len = 0;
      ++count;
    }
    send_all(fd, count, outcome);
  }
  count_ = 0;
  return outcome;
}

}  // namespace mpx::datapath::socket_detail
