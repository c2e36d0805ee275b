// udp_blast: the datapath suite's RTP-like load generator (sendmmsg) and receiver (recvmmsg).
//
//   udp_blast send --dst IP:PORT | --dst-file FILE  [--flows N] [--rate PPS] [--duration S]
//                  [--count N] [--cpu C] [--bind IP:PORT] [--batch B]
//   udp_blast recv --bind IP:PORT [--duration S] [--idle-ms MS] [--cpu C] [--greet-file FILE]
//   udp_blast idle [--duration S] [--pid P]   (the machine's busy CPU while we only sleep)
//
// A flow is one destination (a line "IP PORT" of --dst-file, or --dst repeated --flows times)
// with its own RTP SSRC (0x5eed0000 + flow index), sequence number and timestamp; every datagram
// is 172 bytes: a 12-byte RTP header and 160 bytes of G.711-like payload (20 ms). Packets go
// round-robin over the flows. --rate 0 sends as fast as the path takes them. Both sides print one
// JSON object on stdout: packets, elapsed time, the process's own CPU (getrusage) and, for the
// sender, the whole machine's busy CPU over the sending interval from /proc/stat (kernel
// forwarding is paid in softirq time, not by any process). The receiver counts flows by SSRC.
// --greet-file: before receiving, the receiver sends 3 rounds (100 ms apart) of one packet to
// every destination of FILE from its own socket, so a relay sees media from the callee too and
// latches both sides of every call (a relay forwards in the kernel only once both are latched).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kPayload = 172;
constexpr std::uint32_t kSsrcBase = 0x5eed0000;
constexpr std::size_t kMaxFlows = 65536;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "udp_blast: %s\n", message.c_str());
  std::exit(2);
}

sockaddr_in parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  std::string ip = colon == std::string::npos ? text : text.substr(0, colon);
  const int port = colon == std::string::npos ? 0 : std::atoi(text.c_str() + colon + 1);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) {
    die("bad IPv4 endpoint '" + text + "'");
  }
  return address;
}

void pin_to(int cpu) {
  if (cpu < 0) {
    return;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(cpu), &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    die("sched_setaffinity: " + std::string(std::strerror(errno)));
  }
}

// Busy and total jiffies of the whole machine (first line of /proc/stat).
struct CpuTimes {
  unsigned long long busy = 0;
  unsigned long long total = 0;
};
CpuTimes machine_cpu() {
  std::ifstream in("/proc/stat");
  std::string label;
  in >> label;
  std::array<unsigned long long, 8> v{};  // user nice system idle iowait irq softirq steal
  for (auto& x : v) {
    in >> x;
  }
  CpuTimes t;
  t.total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  t.busy = t.total - v[3] - v[4];
  return t;
}

double rusage_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Options {
  std::string mode;
  std::string dst;
  std::string dst_file;
  std::string greet_file;
  std::string bind;
  std::size_t flows = 1;
  double rate = 0;
  double duration = 1;
  unsigned long long count = 0;
  int cpu = -1;
  unsigned batch = 64;
  int idle_ms = 500;
};

Options parse(int argc, char** argv) {
  if (argc < 2) {
    die("usage: udp_blast send|recv [options] (see the header of udp_blast.cpp)");
  }
  Options o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string name = argv[i];
    if (i + 1 >= argc) {
      die("option " + name + " needs a value");
    }
    const std::string value = argv[++i];
    if (name == "--dst") {
      o.dst = value;
    } else if (name == "--dst-file") {
      o.dst_file = value;
    } else if (name == "--greet-file") {
      o.greet_file = value;
    } else if (name == "--bind") {
      o.bind = value;
    } else if (name == "--flows") {
      o.flows = std::strtoul(value.c_str(), nullptr, 10);
    } else if (name == "--rate") {
      o.rate = std::strtod(value.c_str(), nullptr);
    } else if (name == "--duration") {
      o.duration = std::strtod(value.c_str(), nullptr);
    } else if (name == "--count") {
      o.count = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "--cpu") {
      o.cpu = std::atoi(value.c_str());
    } else if (name == "--batch") {
      o.batch = static_cast<unsigned>(std::strtoul(value.c_str(), nullptr, 10));
    } else if (name == "--idle-ms") {
      o.idle_ms = std::atoi(value.c_str());
    } else {
      die("unknown option " + name);
    }
  }
  if (o.batch == 0 || o.batch > 1024) {
    die("--batch must be 1..1024");
  }
  return o;
}

int open_udp(const std::string& bind_to) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    die("socket: " + std::string(std::strerror(errno)));
  }
  const int size = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
  if (!bind_to.empty()) {
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address = parse_endpoint(bind_to);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      die("bind " + bind_to + ": " + std::strerror(errno));
    }
  }
  return fd;
}

std::vector<sockaddr_in> read_destinations(const std::string& file) {
  std::vector<sockaddr_in> out;
  std::ifstream in(file);
  std::string ip;
  int port = 0;
  while (in >> ip >> port) {
    out.push_back(parse_endpoint(ip + ":" + std::to_string(port)));
  }
  return out;
}

// Three rounds of one RTP packet (SSRC 0x5eef0000 + flow) to every destination, 100 ms apart.
void greet(int fd, const std::vector<sockaddr_in>& to) {
  std::array<std::uint8_t, kPayload> packet{};
  packet.fill(0xd5);
  packet[0] = 0x80;
  packet[1] = 8;
  iovec iov{packet.data(), kPayload};
  for (std::uint16_t round = 0; round < 3; ++round) {
    for (std::size_t f = 0; f < to.size(); ++f) {
      const std::uint16_t s = htons(round);
      const std::uint32_t ssrc = htonl(0x5eef0000U + static_cast<std::uint32_t>(f));
      std::memcpy(&packet[2], &s, 2);
      std::memcpy(&packet[8], &ssrc, 4);
      msghdr msg{};
      msg.msg_name = const_cast<sockaddr_in*>(&to[f]);
      msg.msg_namelen = sizeof(sockaddr_in);
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      sendmsg(fd, &msg, 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::vector<sockaddr_in> destinations(const Options& o) {
  std::vector<sockaddr_in> out;
  if (!o.dst_file.empty()) {
    out = read_destinations(o.dst_file);
    if (o.flows > 0 && o.flows < out.size()) {
      out.resize(o.flows);
    }
  } else if (!o.dst.empty()) {
    out.assign(std::max<std::size_t>(o.flows, 1), parse_endpoint(o.dst));
  }
  if (out.empty() || out.size() > kMaxFlows) {
    die("need 1.." + std::to_string(kMaxFlows) + " destinations (--dst or --dst-file)");
  }
  return out;
}

int run_send(const Options& o) {
  const auto flows = destinations(o);
  const int fd = open_udp(o.bind);
  std::vector<std::uint16_t> seq(flows.size(), 0);
  std::vector<std::uint32_t> ts(flows.size(), 0);

  const unsigned batch = o.batch;
  std::vector<std::array<std::uint8_t, kPayload>> buffers(batch);
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  for (unsigned i = 0; i < batch; ++i) {
    buffers[i].fill(0xd5);  // G.711 A-law silence
    buffers[i][0] = 0x80;   // RTP version 2
    buffers[i][1] = 8;      // PT 8 (PCMA)
    iov[i] = {buffers[i].data(), kPayload};
  }

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(o.duration));
  const CpuTimes cpu_start = machine_cpu();
  const double own_start = rusage_cpu_s();
  unsigned long long sent = 0;
  unsigned long long errors = 0;
  std::size_t next_flow = 0;
  while (g_stop == 0) {
    const auto now = Clock::now();
    if (now >= end || (o.count > 0 && sent >= o.count)) {
      break;
    }
    unsigned n = batch;
    if (o.rate > 0) {
      const double due = o.rate * std::chrono::duration<double>(now - start).count();
      if (static_cast<double>(sent) >= due) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      n = static_cast<unsigned>(std::min<double>(batch, due - static_cast<double>(sent) + 1));
    }
    if (o.count > 0) {
      n = static_cast<unsigned>(std::min<unsigned long long>(n, o.count - sent));
    }
    for (unsigned i = 0; i < n; ++i) {
      const std::size_t f = next_flow;
      next_flow = next_flow + 1 == flows.size() ? 0 : next_flow + 1;
      auto& b = buffers[i];
      const std::uint16_t s = htons(seq[f]++);
      const std::uint32_t t = htonl(ts[f]);
      ts[f] += 160;
      const std::uint32_t ssrc = htonl(kSsrcBase + static_cast<std::uint32_t>(f));
      std::memcpy(&b[2], &s, 2);
      std::memcpy(&b[4], &t, 4);
      std::memcpy(&b[8], &ssrc, 4);
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = const_cast<sockaddr_in*>(&flows[f]);
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int done = sendmmsg(fd, msgs.data(), n, 0);
    if (done < 0) {
      ++errors;  // ENOBUFS/EAGAIN at max rate: the path is full; the packet counts as not sent
      continue;
    }
    sent += static_cast<unsigned>(done);
    if (static_cast<unsigned>(done) < n) {
      ++errors;
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const CpuTimes cpu_end = machine_cpu();
  const double own = rusage_cpu_s() - own_start;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::printf(
      "{\"mode\":\"send\",\"flows\":%zu,\"sent\":%llu,\"send_errors\":%llu,\"elapsed_s\":%.6f,"
      "\"own_cpu_s\":%.6f,\"machine_busy_s\":%.4f,\"machine_total_s\":%.4f}\n",
      flows.size(), sent, errors, elapsed, own,
      static_cast<double>(cpu_end.busy - cpu_start.busy) / hz,
      static_cast<double>(cpu_end.total - cpu_start.total) / hz);
  close(fd);
  return 0;
}

int run_recv(const Options& o) {
  if (o.bind.empty()) {
    die("recv needs --bind IP:PORT");
  }
  const int fd = open_udp(o.bind);
  timeval tv{0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (!o.greet_file.empty()) {
    greet(fd, read_destinations(o.greet_file));
  }
  std::printf("{\"mode\":\"recv\",\"ready\":true}\n");
  std::fflush(stdout);

  constexpr unsigned kBatch = 256;
  std::vector<std::array<std::uint8_t, 2048>> buffers(kBatch);
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> msgs(kBatch);
  for (unsigned i = 0; i < kBatch; ++i) {
    iov[i] = {buffers[i].data(), buffers[i].size()};
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  std::vector<unsigned long long> per_flow(kMaxFlows, 0);
  unsigned long long received = 0;
  unsigned long long foreign = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(o.duration));
  auto first = Clock::time_point{};
  auto last = Clock::time_point{};
  const double own_start = rusage_cpu_s();
  while (g_stop == 0) {
    const auto now = Clock::now();
    if (now >= end) {
      break;
    }
    if (now - (received > 0 ? last : start) > std::chrono::milliseconds(o.idle_ms)) {
      break;  // the sender is done (or nothing came at all)
    }
    const int n = recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) {
      continue;
    }
    last = Clock::now();
    if (received == 0) {
      first = last;
    }
    for (int i = 0; i < n; ++i) {
      const auto& b = buffers[static_cast<unsigned>(i)];
      std::uint32_t ssrc = 0;
      if (msgs[static_cast<unsigned>(i)].msg_len >= 12) {
        std::memcpy(&ssrc, &b[8], 4);
        ssrc = ntohl(ssrc);
      }
      if (ssrc >= kSsrcBase && ssrc - kSsrcBase < kMaxFlows) {
        ++per_flow[ssrc - kSsrcBase];
      } else {
        ++foreign;
      }
    }
    received += static_cast<unsigned>(n);
  }
  std::size_t flows_seen = 0;
  unsigned long long min_flow = ~0ULL;
  unsigned long long max_flow = 0;
  for (const auto c : per_flow) {
    if (c > 0) {
      ++flows_seen;
      min_flow = std::min(min_flow, c);
      max_flow = std::max(max_flow, c);
    }
  }
  const double span = received > 0 ? std::chrono::duration<double>(last - first).count() : 0;
  std::printf(
      "{\"mode\":\"recv\",\"received\":%llu,\"foreign\":%llu,\"flows_seen\":%zu,"
      "\"min_per_flow\":%llu,\"max_per_flow\":%llu,\"span_s\":%.6f,\"own_cpu_s\":%.6f}\n",
      received, foreign, flows_seen, flows_seen ? min_flow : 0, max_flow, span,
      rusage_cpu_s() - own_start);
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  pin_to(options.cpu);
  if (options.mode == "send") {
    return run_send(options);
  }
  if (options.mode == "recv") {
    return run_recv(options);
  }
  if (options.mode == "idle") {
    const CpuTimes before = machine_cpu();
    std::this_thread::sleep_for(std::chrono::duration<double>(options.duration));
    const CpuTimes after = machine_cpu();
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    std::printf("{\"mode\":\"idle\",\"elapsed_s\":%.3f,\"machine_busy_s\":%.4f}\n",
                options.duration, static_cast<double>(after.busy - before.busy) / hz);
    return 0;
  }
  die("mode must be send or recv");
}
