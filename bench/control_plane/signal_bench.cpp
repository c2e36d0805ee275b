// signal_bench: sets up and removes calls as a SIP proxy does, over C concurrent connections,
// and times every request; used by the control_plane suite (the measurement) and the datapath
// suite (to create the N calls whose media it then sends).
//
//   signal_bench mpx --socket PATH  --calls N [--conns C] [--prefix P] [--phase setup|remove]
//   signal_bench ng  --ng IP:PORT   --calls N [--conns C] [--prefix P] [--phase setup|remove]
//       [--caller IP:PORT] [--callee IP:PORT] [--ports-out FILE] [--offer-ports-out FILE]
//       [--first I]
//
// mpx: protocol A on the dispatcher's module socket, byte for byte what OpenSIPS's mediaproxy
// module sends (spec/mediaproxy-compat.md §2): `update` type request (INVITE) then type reply
// (200 OK) per call, `remove` (BYE) per call. ng: rtpengine's control protocol (a cookie and a
// bencoded dictionary over UDP): `offer` and `answer` with an SDP per call, `delete` per call.
// Calls are numbered I..I+N-1 (call-id P-<n>); connection c handles the calls n with
// n % C == c, one request at a time (as one proxy worker does). For the setup phase,
// --ports-out writes one line per call "IP PORT": where the CALLER sends its RTP (the answer's
// relay port); --offer-ports-out likewise where the CALLEE sends (the offer's). Prints one JSON object: calls ok/failed, elapsed time, calls per second and the
// answer-time percentiles (per request, milliseconds).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "signal_bench: %s\n", message.c_str());
  std::exit(2);
}

struct Options {
  std::string protocol;
  std::string target;
  std::size_t calls = 100;
  std::size_t conns = 1;
  std::size_t first = 0;
  std::string prefix = "bench";
  std::string phase = "setup";
  std::string caller = "10.1.0.10:5000";
  std::string callee = "10.2.0.20:6000";
  std::string ports_out;
  std::string offer_ports_out;
};

Options parse(int argc, char** argv) {
  if (argc < 2) {
    die("usage: signal_bench mpx|ng [options] (see the header of signal_bench.cpp)");
  }
  Options o;
  o.protocol = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string name = argv[i];
    if (i + 1 >= argc) {
      die("option " + name + " needs a value");
    }
    const std::string value = argv[++i];
    if (name == "--socket" || name == "--ng") {
      o.target = value;
    } else if (name == "--calls") {
      o.calls = std::strtoul(value.c_str(), nullptr, 10);
    } else if (name == "--conns") {
      o.conns = std::max<std::size_t>(1, std::strtoul(value.c_str(), nullptr, 10));
    } else if (name == "--first") {
      o.first = std::strtoul(value.c_str(), nullptr, 10);
    } else if (name == "--prefix") {
      o.prefix = value;
    } else if (name == "--phase") {
      o.phase = value;
    } else if (name == "--caller") {
      o.caller = value;
    } else if (name == "--callee") {
      o.callee = value;
    } else if (name == "--offer-ports-out") {
      o.offer_ports_out = value;
    } else if (name == "--ports-out") {
      o.ports_out = value;
    } else {
      die("unknown option " + name);
    }
  }
  if (o.target.empty() || (o.protocol != "mpx" && o.protocol != "ng") ||
      (o.phase != "setup" && o.phase != "remove")) {
    die("need mpx --socket PATH or ng --ng IP:PORT, and --phase setup|remove");
  }
  return o;
}

std::pair<std::string, std::string> split_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    die("bad endpoint '" + text + "'");
  }
  return {text.substr(0, colon), text.substr(colon + 1)};
}

// One request/response channel: a protocol-A connection or an ng UDP socket.
class Channel {
 public:
  virtual ~Channel() = default;
  // Sends `request` and returns the reply (nullopt on timeout or a closed connection).
  virtual std::optional<std::string> ask(const std::string& request) = 0;
};

std::atomic<unsigned long> g_serial{0};

bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

class ModuleChannel final : public Channel {
 public:
  explicit ModuleChannel(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      die("connect " + path + ": " + std::strerror(errno));
    }
  }
  ~ModuleChannel() override { close(fd_); }
  std::optional<std::string> ask(const std::string& request) override {
    if (write(fd_, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      return std::nullopt;
    }
    // The reply is one line ending in "\r\n".
    for (;;) {
      const auto end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return line;
      }
      if (!wait_readable(fd_, 5000)) {
        return std::nullopt;
      }
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) {
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

class NgChannel final : public Channel {
 public:
  explicit NgChannel(const std::string& endpoint) {
    const auto [ip, port] = split_endpoint(endpoint);
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port.c_str())));
    if (fd_ < 0 || inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      die("ng socket to " + endpoint + ": " + std::strerror(errno));
    }
  }
  ~NgChannel() override { close(fd_); }
  std::optional<std::string> ask(const std::string& request) override {
    // Unique across the threads: rtpengine answers a repeated cookie from its reply cache.
    const std::string cookie =
        std::to_string(getpid()) + "_" + std::to_string(g_serial.fetch_add(1) + 1) + " ";
    const std::string datagram = cookie + request;
    if (send(fd_, datagram.data(), datagram.size(), 0) < 0) {
      return std::nullopt;
    }
    std::vector<char> reply(65536);
    for (;;) {
      if (!wait_readable(fd_, 5000)) {
        return std::nullopt;
      }
      const ssize_t n = recv(fd_, reply.data(), reply.size(), 0);
      if (n <= 0) {
        return std::nullopt;
      }
      std::string text(reply.data(), static_cast<std::size_t>(n));
      if (text.rfind(cookie, 0) == 0) {  // a late reply to an earlier request is skipped
        return text.substr(cookie.size());
      }
    }
  }

 private:
  int fd_ = -1;
};

// ------------------------------------------------------------------------------ protocol A

std::string module_request(const std::string& command,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string text = command + "\r\n";
  for (const auto& [name, value] : headers) {
    text += name + ": " + value + "\r\n";
  }
  return text + "\r\n";
}

std::string mpx_update(const std::string& call_id, bool request, const std::string& media) {
  const auto [ip, port] = split_endpoint(media);
  return module_request("update", {{"type", request ? "request" : "reply"},
                                   {"dialog_id", "5063766441986"},
                                   {"call_id", call_id},
                                   {"cseq", "1"},
                                   {"from_uri", "alice@example.com"},
                                   {"to_uri", "bob@example.net"},
                                   {"from_tag", "a73kszlfl"},
                                   {"to_tag", request ? "" : "8d7f2a"},
                                   {"user_agent", request ? "Blink 5.1" : "Asterisk PBX"},
                                   {"signaling_ip", ip},
                                   {"media_relay", ""},
                                   {"media", "audio:" + ip + ":" + port + ":sendrecv:ice=no"}});
}

// "IP PORT" of an update reply "IP PORT"; nullopt for anything else (an error line).
std::optional<std::string> mpx_port(const std::string& reply) {
  const auto space = reply.find(' ');
  if (space == std::string::npos || reply.find(' ', space + 1) != std::string::npos ||
      std::atoi(reply.c_str() + space + 1) <= 0) {
    return std::nullopt;
  }
  return reply;
}

// ------------------------------------------------------------------------------ ng / bencode

std::string bstr(const std::string& s) { return std::to_string(s.size()) + ":" + s; }

// A bencoded dictionary of strings (keys sorted, as bencode requires).
std::string bdict(std::vector<std::pair<std::string, std::string>> items) {
  std::sort(items.begin(), items.end());
  std::string out = "d";
  for (const auto& [k, v] : items) {
    out += bstr(k) + bstr(v);
  }
  return out + "e";
}

// The string value of `key` in a flat bencoded dictionary; nullopt when absent.
std::optional<std::string> bget(const std::string& dict, const std::string& key) {
  const std::string needle = bstr(key);
  std::size_t at = 0;
  while ((at = dict.find(needle, at)) != std::string::npos) {
    std::size_t p = at + needle.size();
    std::size_t length = 0;
    std::size_t digits = 0;
    while (p < dict.size() && dict[p] >= '0' && dict[p] <= '9') {
      length = length * 10 + static_cast<std::size_t>(dict[p] - '0');
      ++p;
      ++digits;
    }
    if (digits > 0 && p < dict.size() && dict[p] == ':' && p + 1 + length <= dict.size()) {
      return dict.substr(p + 1, length);
    }
    at += needle.size();
  }
  return std::nullopt;
}

std::string sdp_for(const std::string& media) {
  const auto [ip, port] = split_endpoint(media);
  return "v=0\r\no=- 1545997027 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip +
         "\r\nt=0 0\r\nm=audio " + port +
         " RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n";
}

// "IP PORT" from the SDP of an ng reply (c= line, m=audio port); nullopt when not ok.
std::optional<std::string> ng_port(const std::string& reply) {
  if (bget(reply, "result") != "ok") {
    return std::nullopt;
  }
  const auto sdp = bget(reply, "sdp");
  if (!sdp) {
    return std::nullopt;
  }
  const auto c = sdp->find("c=IN IP4 ");
  const auto m = sdp->find("m=audio ");
  if (c == std::string::npos || m == std::string::npos) {
    return std::nullopt;
  }
  const auto c_end = sdp->find_first_of("\r\n", c);
  const std::string ip = sdp->substr(c + 9, c_end - c - 9);
  return ip + " " + std::to_string(std::atoi(sdp->c_str() + m + 8));
}

// ------------------------------------------------------------------------------ the run

struct Shared {
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::vector<std::string> ports;
  std::vector<std::string> offer_ports;
  std::atomic<std::size_t> ok{0};
  std::atomic<std::size_t> failed{0};
  std::string first_error;
};

void worker(const Options& o, std::size_t index, Shared& shared) {
  std::unique_ptr<Channel> channel;
  if (o.protocol == "mpx") {
    channel = std::make_unique<ModuleChannel>(o.target);
  } else {
    channel = std::make_unique<NgChannel>(o.target);
  }
  std::vector<double> latencies;
  auto timed = [&](const std::string& request) {
    const auto t0 = Clock::now();
    auto reply = channel->ask(request);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    return reply;
  };
  auto fail = [&](const std::string& what) {
    ++shared.failed;
    std::lock_guard lock(shared.mutex);
    if (shared.first_error.empty()) {
      shared.first_error = what;
    }
  };
  for (std::size_t n = index; n < o.calls; n += o.conns) {
    const std::string call_id = o.prefix + "-" + std::to_string(o.first + n);
    if (o.phase == "remove") {
      std::optional<std::string> reply;
      if (o.protocol == "mpx") {
        reply = timed(module_request(
            "remove", {{"call_id", call_id}, {"from_tag", "a73kszlfl"}, {"to_tag", "8d7f2a"}}));
        reply && *reply == "removed" ? void(++shared.ok) : fail("remove: " + reply.value_or("<none>"));
      } else {
        reply = timed(bdict({{"command", "delete"}, {"call-id", call_id}, {"from-tag", "a73kszlfl"}}));
        reply && bget(*reply, "result") == "ok" ? void(++shared.ok)
                                                 : fail("delete: " + reply.value_or("<none>"));
      }
      continue;
    }
    std::optional<std::string> offer_port;
    std::optional<std::string> answer_port;
    std::string last;
    if (o.protocol == "mpx") {
      auto r1 = timed(mpx_update(call_id, true, o.caller));
      offer_port = r1 ? mpx_port(*r1) : std::nullopt;
      last = r1.value_or("<none>");
      if (offer_port) {
        auto r2 = timed(mpx_update(call_id, false, o.callee));
        answer_port = r2 ? mpx_port(*r2) : std::nullopt;
        last = r2.value_or("<none>");
      }
    } else {
      auto r1 = timed(bdict({{"command", "offer"}, {"call-id", call_id},
                             {"from-tag", "a73kszlfl"}, {"sdp", sdp_for(o.caller)}}));
      offer_port = r1 ? ng_port(*r1) : std::nullopt;
      last = r1.value_or("<none>");
      if (offer_port) {
        auto r2 = timed(bdict({{"command", "answer"}, {"call-id", call_id},
                               {"from-tag", "a73kszlfl"}, {"to-tag", "8d7f2a"},
                               {"sdp", sdp_for(o.callee)}}));
        answer_port = r2 ? ng_port(*r2) : std::nullopt;
        last = r2.value_or("<none>");
      }
    }
    if (answer_port) {
      ++shared.ok;
      std::lock_guard lock(shared.mutex);
      shared.ports[n] = *answer_port;
      shared.offer_ports[n] = *offer_port;
    } else {
      fail("setup " + call_id + ": " + last.substr(0, 200));
    }
  }
  std::lock_guard lock(shared.mutex);
  shared.latencies_ms.insert(shared.latencies_ms.end(), latencies.begin(), latencies.end());
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  const auto rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Shared shared;
  shared.ports.resize(o.calls);
  shared.offer_ports.resize(o.calls);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < o.conns; ++c) {
    threads.emplace_back(worker, std::cref(o), c, std::ref(shared));
  }
  for (auto& t : threads) {
    t.join();
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(shared.latencies_ms.begin(), shared.latencies_ms.end());
  for (const auto& [file, ports] : {std::pair{o.ports_out, &shared.ports},
                                     std::pair{o.offer_ports_out, &shared.offer_ports}}) {
    if (file.empty()) {
      continue;
    }
    std::ofstream out(file);
    for (const auto& p : *ports) {
      if (!p.empty()) {
        out << p << "\n";
      }
    }
  }
  std::string error = shared.first_error;
  for (auto& ch : error) {
    if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) {
      ch = ' ';
    }
  }
  std::printf(
      "{\"protocol\":\"%s\",\"phase\":\"%s\",\"conns\":%zu,\"calls\":%zu,\"ok\":%zu,"
      "\"failed\":%zu,\"elapsed_s\":%.6f,\"calls_per_s\":%.2f,\"requests\":%zu,"
      "\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"p999_ms\":%.4f,\"max_ms\":%.4f,\"first_error\":\"%s\"}\n",
      o.protocol.c_str(), o.phase.c_str(), o.conns, o.calls, shared.ok.load(),
      shared.failed.load(), elapsed, static_cast<double>(shared.ok.load()) / elapsed,
      shared.latencies_ms.size(), percentile(shared.latencies_ms, 0.5),
      percentile(shared.latencies_ms, 0.99), percentile(shared.latencies_ms, 0.999),
      shared.latencies_ms.empty() ? 0.0 : shared.latencies_ms.back(), error.c_str());
  return shared.failed.load() == 0 ? 0 : 1;
}
