// ReceiveBatch and SendBatch: the reusable recvmmsg / sendmmsg arrays of the media sockets'
// receive path. Allocated once per MediaSockets, so relaying a packet allocates nothing.
//
// Slot size: each receive slot holds 2048 bytes. RTP/RTCP datagrams are far smaller (audio
// 100-300 bytes, video kept under the path MTU by its packetiser), so 32 slots of 64 KiB each
// (2 MiB, cache-hostile) would buy nothing; a datagram longer than a slot is detected with
// MSG_TRUNC, counted as truncated and dropped, never forwarded or punted cut short.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mpx::datapath::socket_detail {

inline constexpr std::size_t kBatchSize = 32;
inline constexpr std::size_t kSlotSize = 2048;

class ReceiveBatch {
 public:
  ReceiveBatch();
  ReceiveBatch(const ReceiveBatch&) = delete;
  ReceiveBatch& operator=(const ReceiveBatch&) = delete;

  // One recvmmsg(MSG_DONTWAIT | MSG_TRUNC) of up to kBatchSize datagrams: their count, or -1
  // with errno set (EAGAIN when the socket is drained).
  int receive(int fd);

  // The datagram's length on the wire (may exceed kSlotSize when truncated).
  std::size_t length(std::size_t i) const { return messages_[i].msg_len; }
  bool truncated(std::size_t i) const {
    return (messages_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 || messages_[i].msg_len > kSlotSize;
  }
  // Only meaningful when !truncated(i).
  std::span<const std::uint8_t> data(std::size_t i) const {
    return {buffer_.data() + i * kSlotSize, messages_[i].msg_len};
  }
  const sockaddr_in& source(std::size_t i) const { return sources_[i]; }

 private:
  std::vector<std::uint8_t> buffer_;  // kBatchSize slots of kSlotSize
  std::array<mmsghdr, kBatchSize> messages_{};
  std::array<iovec, kBatchSize> iovecs_{};
  std::array<sockaddr_in, kBatchSize> sources_{};
};

class SendBatch {
 public:
  struct Outcome {
    std::uint64_t sent_packets = 0;
    std::uint64_t sent_bytes = 0;
    std::uint64_t failed = 0;
  };

  SendBatch() = default;
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  // Queues one datagram; `data` must stay valid until flush(). At most kBatchSize between
  // flushes (one per received datagram).
  void add(int fd, const sockaddr_in& destination, std::span<const std::uint8_t> data);
  bool empty() const { return count_ == 0; }
  // Sends everything queued, one sendmmsg per output socket (in queue order within a socket),
  // and empties the queue. A datagram the kernel refuses is counted failed and skipped.
  Outcome flush();

 private:
  struct Pending {
    int fd;
    sockaddr_in destination;
    const std::uint8_t* data;
    std::size_t size;
  };
  // sendmmsg of messages_[0, count): adds to `outcome`.
  void send_all(int fd, std::size_t count, Outcome& outcome);

  std::array<Pending, kBatchSize> pending_{};
  std::size_t count_ = 0;
  std::array<mmsghdr, kBatchSize> messages_{};
  std::array<iovec, kBatchSize> iovecs_{};
};

}  // namespace mpx::datapath::socket_detail
