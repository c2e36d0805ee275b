// The attack harness checked on its own, without mpx-relay: the sprayer hits every port of the
// relay's range with every packet kind at about the rate asked and classifies what comes back;
// forged packets arrive with the forged source; the NAT rewrites the port and set_nat_source()
// moves the mapping; the paced media source keeps 50 packets/s and delivery is measured right;
// the WebRTC-like peers complete their exchange; the packet formats classify as RFC 7983 says;
// the figures line and file have the documented shape. All traffic stays inside the lab.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "common/config/config.hpp"
#include "tests/integration/attack/attack_fixture.hpp"
#include "tests/integration/attack/delivery.hpp"
#include "tests/integration/attack/media_source.hpp"
#include "tests/integration/attack/spoof_sender.hpp"
#include "tests/integration/attack/sprayer.hpp"
#include "tests/integration/attack/udp_socket.hpp"
#include "tests/integration/attack/webrtc_peer.hpp"
#include "tests/integration/dispatcher/dispatcher_harness.hpp"
#include "tests/support/privileged.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::test::attack {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;
using dispatcher::testing::DispatcherHarness;
using relay_lab::RtpPeer;

// Sets an environment variable for a scope and restores what was there before.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name); old != nullptr) {
      old_ = old;
    }
    set(value);
  }
  ~ScopedEnv() { set(old_ ? old_->c_str() : nullptr); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  void set(const char* value) {
    if (value == nullptr) {
      ::unsetenv(name_);
    } else {
      ::setenv(name_, value, 1);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class AttackHarnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    for (const char* tool : {"ip", "bash", "ethtool", "nft", "conntrack", "sysctl"}) {
      MPX_REQUIRE(missing_tool(tool));
    }
  }
};

// RFC 7983 section 7, written independently of the harness's own parsing.
std::string rfc7983_class(const Bytes& b) {
  if (b.empty()) {
    return "empty";
  }
  const std::uint8_t first = b[0];
  if (first <= 3) {
    const bool cookie =
        b.size() >= 20 && b[4] == 0x21 && b[5] == 0x12 && b[6] == 0xa4 && b[7] == 0x42;
    return cookie ? "stun" : "other";
  }
  if (first >= 16 && first <= 19) {
    return "zrtp";
  }
  if (first >= 20 && first <= 63) {
    return "dtls";
  }
  if (first >= 64 && first <= 79) {
    return "turn";
  }
  if (first >= 128 && first <= 191) {
    return b.size() >= 2 && b[1] >= 192 && b[1] <= 223 ? "rtcp" : "rtp";
  }
  return "other";
}

// UDP sockets on every port of the relay's range in the relay namespace, drained by a thread
// that records, per port, the RFC 7983 class of each datagram, and its source.
class PortRangeListener {
 public:
  explicit PortRangeListener(const NetnsLab& lab) {
    for (std::uint16_t port = 40000; port <= 40101; ++port) {
      sockets_.push_back(std::make_unique<UdpSocket>(lab, "relay", A::kRelayPublic, port));
    }
    thread_ = std::thread([this] { run(); });
  }
  ~PortRangeListener() {
    stopping_ = true;
    thread_.join();
  }
  PortRangeListener(const PortRangeListener&) = delete;
  PortRangeListener& operator=(const PortRangeListener&) = delete;

  std::map<std::uint16_t, std::map<std::string, std::uint64_t>> by_port() const {
    std::lock_guard lock(mutex_);
    return by_port_;
  }
  std::map<std::string, std::uint64_t> by_class() const {
    std::lock_guard lock(mutex_);
    return by_class_;
  }
  std::set<std::string> sources() const {
    std::lock_guard lock(mutex_);
    return sources_;
  }
  std::uint64_t total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }
  std::uint64_t unmarked() const {
    std::lock_guard lock(mutex_);
    return unmarked_;
  }
  // Echoes the first `count` datagrams back to their sources (the sprayer must count them as
  // its own).
  void echo(std::uint64_t count) { echo_ = count; }
  std::uint64_t echoed() const { return echoed_; }
  const UdpSocket& socket(std::size_t i) const { return *sockets_[i]; }

 private:
  void run() {
    std::vector<int> fds;
    std::map<int, std::pair<std::uint16_t, const UdpSocket*>> by_fd;
    for (const auto& s : sockets_) {
      fds.push_back(s->fd());
      by_fd[s->fd()] = {s->local_port(), s.get()};
    }
    while (!stopping_) {
      for (const int fd : wait_readable(fds, 20ms)) {
        const auto& [port, socket] = by_fd[fd];
        for (int i = 0; i < 256; ++i) {
          auto d = socket->receive(0ms);
          if (!d) {
            break;
          }
          if (echoed_ < echo_) {
            const auto colon = d->source.rfind(':');
            socket->send_to(d->source.substr(0, colon),
                            static_cast<std::uint16_t>(std::stoi(d->source.substr(colon + 1))),
                            d->bytes);
            ++echoed_;
          }
          const std::string kind = rfc7983_class(d->bytes);
          std::lock_guard lock(mutex_);
          ++by_port_[port][kind];
          ++by_class_[kind];
          sources_.insert(d->source);
          ++total_;
          unmarked_ += carries_attack_marker(d->bytes) ? 0U : 1U;
        }
      }
    }
  }

  std::vector<std::unique_ptr<UdpSocket>> sockets_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> echo_{0};
  std::atomic<std::uint64_t> echoed_{0};
  mutable std::mutex mutex_;
  std::map<std::uint16_t, std::map<std::string, std::uint64_t>> by_port_;
  std::map<std::string, std::uint64_t> by_class_;
  std::set<std::string> sources_;
  std::uint64_t total_ = 0;
  std::uint64_t unmarked_ = 0;
  std::thread thread_;
};

TEST_F(AttackHarnessTest, SprayerHitsEveryPortWithEveryKindAtTheRateAsked) {
  const NetnsLab lab("atkspray", NetnsLab::Variant::kAttack);
  PortRangeListener relay(lab);
  relay.echo(20);
  SprayerOptions options;
  options.parties = lab_parties();
  options.max_duration = 2s;
  Sprayer sprayer(lab, options);
  sprayer.start();
  // Legitimate-looking media and a stranger's bytes from a relay port, to be classified.
  std::this_thread::sleep_for(300ms);
  relay.socket(0).send_to(A::kAttacker, 7000,
                          rtp_packet(relay_lab::kCallerSsrc, 1, 0, relay_lab::kCallerFill));
  relay.socket(1).send_to(A::kAttacker, 7001,
                          rtcp_sender_report(relay_lab::kCalleeSsrc, 1, 2, 3, 4));
  relay.socket(2).send_to(A::kAttacker, 7002, Bytes{'h', 'e', 'l', 'l', 'o'});
  EXPECT_TRUE(DispatcherHarness::eventually([&] { return sprayer.sent() >= 5900; }, 5s));
  std::this_thread::sleep_for(200ms);  // past max_duration
  sprayer.stop();
  std::this_thread::sleep_for(200ms);

  // The rate: 3,000 packets/s, for the 2 s asked (the count bound stops it at 6,000).
  const auto sent = sprayer.sent();
  const double seconds = static_cast<double>(sprayer.sending_time().count()) / 1000.0;
  EXPECT_LE(sent, 6000U);
  EXPECT_GE(sent, 5900U);
  EXPECT_EQ(sprayer.send_failures(), 0U);
  EXPECT_NEAR(static_cast<double>(sent) / seconds, 3000.0, 300.0) << sent << " in " << seconds;
  for (const auto n : sprayer.sent_by_kind()) {
    EXPECT_NEAR(static_cast<double>(n), static_cast<double>(sent) / kSprayKinds, 1.0);
  }
  // Every port, every kind, each exactly as the sprayer says it sent.
  const auto sent_by_port = sprayer.sent_by_port();
  EXPECT_EQ(sent_by_port.size(), 102U);
  const auto by_port = relay.by_port();
  ASSERT_EQ(by_port.size(), 102U);
  for (const auto& [port, kinds] : by_port) {
    SCOPED_TRACE(port);
    for (const char* kind : {"rtp", "rtcp", "stun", "dtls", "other"}) {
      EXPECT_GT(kinds.count(kind) != 0U ? kinds.at(kind) : 0U, 0U) << kind;
    }
    EXPECT_EQ(kinds.size(), 5U);
  }
  const auto by_class = relay.by_class();
  const auto kinds = sprayer.sent_by_kind();
  for (std::size_t k = 0; k < kSprayKinds; ++k) {
    const std::string name(to_string(static_cast<SprayKind>(k)));
    EXPECT_EQ(by_class.count(name) != 0U ? by_class.at(name) : 0U, kinds[k]) << name;
  }
  EXPECT_EQ(relay.total(), sent) << "the lab lost spray packets";
  EXPECT_EQ(relay.unmarked(), 0U) << "spray packets without the attacker's marker";
  EXPECT_EQ(relay.sources(), (std::set<std::string>{"10.4.0.40:7000", "10.4.0.40:7001",
                                                    "10.4.0.40:7002", "10.4.0.40:7003"}));
  // What came back is classified.
  const SprayerReceived back = sprayer.received();
  EXPECT_EQ(relay.echoed(), 20U);
  EXPECT_EQ(back.own, 20U);
  EXPECT_EQ(back.caller, 1U);
  EXPECT_EQ(back.callee, 1U);
  EXPECT_EQ(back.unknown, 1U);
}

TEST_F(AttackHarnessTest, SprayerStopsAtItsMaximumDuration) {
  const NetnsLab lab("atkstop", NetnsLab::Variant::kAttack);
  SprayerOptions options;
  options.packets_per_second = 1000;
  options.max_duration = 300ms;
  Sprayer sprayer(lab, options);
  sprayer.start();
  std::this_thread::sleep_for(800ms);
  const auto sent = sprayer.sent();
  EXPECT_LE(sent, 300U);
  EXPECT_GE(sent, 250U);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sprayer.sent(), sent) << "still sending after max_duration";
}

TEST_F(AttackHarnessTest, ForgedPacketsArriveWithTheForgedSource) {
  const NetnsLab lab("atkspoof", NetnsLab::Variant::kAttack);
  const UdpSocket relay(lab, "relay", A::kRelayPublic, 40000);
  RtpPeer decoy(lab, "caller", A::kCaller, 5002);
  SpoofSender forger(lab);
  const Bytes payload = rtp_packet(relay_lab::kCallerSsrc, 77, 160, kAttackerFill);
  ASSERT_TRUE(forger.send(A::kCaller, 5002, A::kRelayPublic, 40000, payload));
  const auto got = relay.receive(2s);
  ASSERT_TRUE(got.has_value()) << "the forged datagram did not arrive";
  EXPECT_EQ(got->source, "10.1.0.10:5002");
  EXPECT_EQ(got->bytes, payload);
  EXPECT_EQ(forger.sent(), 1U);
  // An answer to the forged source goes to the real owner of that address: the decoy.
  ASSERT_TRUE(relay.send_to(A::kCaller, 5002, Bytes{'b', 'a', 'c', 'k'}));
  EXPECT_EQ(decoy.wait_from("203.0.113.1:40000", 1, 2s), 1U);
}

// The forged datagram's checksums, verified independently (a veth may let the receiver skip
// the UDP checksum, so arrival alone does not prove it).
TEST(AttackHarnessText, ForgedDatagramHasValidChecksums) {
  const Bytes payload{1, 2, 3, 4, 5};
  const Bytes d = forged_udp_datagram("10.1.0.10", 5002, "203.0.113.1", 40000, payload);
  ASSERT_EQ(d.size(), 20U + 8U + payload.size());
  const auto sum16 = [](const Bytes& bytes, std::size_t from, std::size_t to, std::uint32_t sum) {
    for (std::size_t i = from; i < to; i += 2) {
      sum += static_cast<std::uint32_t>(bytes[i] << 8) + (i + 1 < to ? bytes[i + 1] : 0U);
    }
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffffU) + (sum >> 16);
    }
    return sum;
  };
  EXPECT_EQ(sum16(d, 0, 20, 0), 0xffffU) << "IP header checksum";
  std::uint32_t pseudo = 0;
  for (std::size_t i = 12; i < 20; i += 2) {
    pseudo += static_cast<std::uint32_t>(d[i] << 8) + d[i + 1];
  }
  pseudo += 17 + static_cast<std::uint32_t>(8 + payload.size());
  EXPECT_EQ(sum16(d, 20, d.size(), pseudo), 0xffffU) << "UDP checksum";
  EXPECT_EQ(d[20], 5002 >> 8);
  EXPECT_EQ(d[21], 5002 & 0xff);
  EXPECT_EQ(d[8], 64);  // TTL
}

TEST_F(AttackHarnessTest, NatRewritesThePortAndSetNatSourceMovesTheMapping) {
  const NetnsLab lab("atknat", NetnsLab::Variant::kAttack);
  const UdpSocket relay(lab, "relay", A::kRelayPublic, 40000);
  const UdpSocket natted(lab, "natted", A::kNatted, 5000);
  const auto probe = [&](const std::string& expected_ip) {
    SCOPED_TRACE(expected_ip);
    ASSERT_TRUE(natted.send_to(A::kRelayPublic, 40000, Bytes{'p'}));
    const auto got = relay.receive(2s);
    ASSERT_TRUE(got.has_value());
    const auto colon = got->source.rfind(':');
    EXPECT_EQ(got->source.substr(0, colon), expected_ip);
    const int port = std::stoi(got->source.substr(colon + 1));
    EXPECT_NE(port, 5000) << "the NAT kept the port";
    EXPECT_GE(port, A::kNatFirstPort);
    EXPECT_LE(port, A::kNatLastPort);
    ASSERT_TRUE(relay.send_to(expected_ip, static_cast<std::uint16_t>(port), Bytes{'r'}));
    const auto back = natted.receive(2s);
    ASSERT_TRUE(back.has_value()) << "the reply was not mapped back";
    EXPECT_EQ(back->source, "203.0.113.1:40000");
  };
  probe(A::kNatPublic);
  ASSERT_TRUE(set_nat_source(lab, A::kNatPublic2));
  probe(A::kNatPublic2);
  ASSERT_TRUE(set_nat_source(lab, A::kNatPublic));
  probe(A::kNatPublic);
}

TEST_F(AttackHarnessTest, MediaSourceIsPacedAndDeliveryIsMeasured) {
  const NetnsLab lab("atkmedia", NetnsLab::Variant::kAttack);
  // Straight from caller to callee: the relay namespace forwards plain IP, no relay runs.
  RtpPeer caller_rtp(lab, "caller", A::kCaller, 5000);
  RtpPeer caller_rtcp(lab, "caller", A::kCaller, 5001);
  RtpPeer callee_rtp(lab, "callee", A::kCallee, 6000);
  RtpPeer callee_rtcp(lab, "callee", A::kCallee, 6001);
  MediaPlan plan;
  plan.ssrc = relay_lab::kCallerSsrc;
  plan.fill = relay_lab::kCallerFill;
  plan.first_sequence = 65530;  // wraps: delivery must not care
  plan.duration = 1s;
  plan.rtcp_every = 200ms;
  plan.rtcp_after = 300ms;
  MediaSource source(caller_rtp, &caller_rtcp, A::kCallee, 6000, plan);
  source.start();
  ASSERT_TRUE(source.wait_done(3s));
  std::this_thread::sleep_for(100ms);

  const auto sent = source.sent_rtp();
  EXPECT_EQ(sent.size(), 50U);
  ASSERT_GE(sent.size(), 2U);
  const double span_ms =
      std::chrono::duration<double, std::milli>(sent.back().at - sent.front().at).count();
  EXPECT_NEAR(span_ms / static_cast<double>(sent.size() - 1), 20.0, 1.0);
  EXPECT_EQ(sent.front().sequence, 65530);
  EXPECT_EQ(source.rtcp_sent(), 4U);  // at 300, 500, 700 and 900 ms
  const Delivery all = delivery_of(source, callee_rtp, 0ms);
  EXPECT_EQ(all.counted, 50U);
  EXPECT_EQ(all.delivered, 50U);
  const Delivery later = delivery_of(source, callee_rtp, 100ms);
  EXPECT_EQ(later.counted, 45U);
  EXPECT_DOUBLE_EQ(later.fraction(), 1.0);
  ASSERT_TRUE(later.first_ms.has_value());
  EXPECT_LT(*later.first_ms, 20.0);
  EXPECT_EQ(rtcp_received(callee_rtcp, relay_lab::kCallerSsrc), 4U);
  EXPECT_EQ(foreign_sources(callee_rtp, "10.1.0.10:5000"), 0U);
  EXPECT_EQ(foreign_sources(callee_rtp, "203.0.113.1:40000"), 50U);
  EXPECT_EQ(attacker_packets(callee_rtp), 0U);
  EXPECT_EQ(legit_packets(callee_rtp, lab_parties()), 50U);
  // Nothing arrived at the caller: nothing delivered, no first delivery.
  const Delivery none = delivery_of(source, caller_rtp, 0ms);
  EXPECT_EQ(none.delivered, 0U);
  EXPECT_EQ(none.lost(), 50U);
  EXPECT_FALSE(none.first_ms.has_value());
}

TEST_F(AttackHarnessTest, WebRtcPeersCompleteTheirExchangeThroughTheNat) {
  const NetnsLab lab("atkwebrtc", NetnsLab::Variant::kAttack);
  WebRtcPeer offerer(lab, "natted", A::kNatted, 5000, WebRtcPeer::Role::offerer, kCallerTag);
  WebRtcPeer answerer(lab, "callee", A::kCallee, 6000, WebRtcPeer::Role::answerer, kCalleeTag);
  answerer.start("", 0, 5s);
  offerer.start(A::kCallee, 6000, 5s);
  EXPECT_TRUE(DispatcherHarness::eventually(
      [&] {
        const auto c = offerer.counts();
        return c.stun_responses_received > 0 && c.hello_verifies_received > 0;
      },
      3s));
  std::this_thread::sleep_for(300ms);
  offerer.stop();
  answerer.stop();
  const WebRtcCounts c = offerer.counts();
  const WebRtcCounts e = answerer.counts();
  // Answered at once: the offerer stopped after its first request and ClientHello.
  EXPECT_EQ(c.stun_requests_sent, 1U);
  EXPECT_EQ(c.client_hellos_sent, 1U);
  EXPECT_EQ(e.stun_requests_received, 1U);
  EXPECT_EQ(e.client_hellos_received, 1U);
  EXPECT_EQ(e.stun_responses_sent, 1U);
  EXPECT_EQ(e.hello_verifies_sent, 1U);
  EXPECT_EQ(c.stun_responses_received, 1U);
  EXPECT_EQ(c.hello_verifies_received, 1U);
  EXPECT_EQ(c.other_received + e.other_received + c.attacker_received + e.attacker_received, 0U);
  EXPECT_EQ(offerer.sources(), (std::map<std::string, std::uint64_t>{{"10.2.0.20:6000", 2}}));
  ASSERT_EQ(answerer.sources().size(), 1U);
  EXPECT_EQ(answerer.sources().begin()->first.rfind("10.5.0.10:", 0), 0U);
}

TEST_F(AttackHarnessTest, WebRtcOffererRetransmitsUntilAnswered) {
  const NetnsLab lab("atkretx", NetnsLab::Variant::kAttack);
  WebRtcPeer offerer(lab, "caller", A::kCaller, 5000, WebRtcPeer::Role::offerer, kCallerTag);
  const UdpSocket silent(lab, "callee", A::kCallee, 6000);  // receives, never answers
  offerer.start(A::kCallee, 6000, 1s);
  std::this_thread::sleep_for(1200ms);
  offerer.stop();
  const WebRtcCounts c = offerer.counts();
  EXPECT_NEAR(static_cast<double>(c.stun_requests_sent), 20.0, 2.0);  // every 50 ms
  EXPECT_NEAR(static_cast<double>(c.client_hellos_sent), 2.0, 1.0);   // every 500 ms
}

TEST(AttackHarnessText, PacketKindsClassifyAsRfc7983SaysAndCarryTheMarker) {
  std::mt19937 random(1);
  for (int round = 0; round < 200; ++round) {
    for (std::size_t k = 0; k < kSprayKinds; ++k) {
      const auto kind = static_cast<SprayKind>(k);
      const Bytes packet =
          attacker_packet(kind, random, relay_lab::kCallerSsrc, relay_lab::kCalleeSsrc);
      SCOPED_TRACE(std::string(to_string(kind)));
      EXPECT_EQ(rfc7983_class(packet), to_string(kind));
      EXPECT_TRUE(carries_attack_marker(packet));
      EXPECT_EQ(origin_of(packet, lab_parties()), Origin::attacker);
      if (kind == SprayKind::stun) {
        EXPECT_EQ(stun_type(packet), kStunBindingRequest);
        EXPECT_GE(packet.size(), 20U);
      }
      if (kind == SprayKind::dtls) {
        EXPECT_EQ(dtls_handshake_type(packet), kDtlsClientHello);
      }
      if (kind == SprayKind::rtp || kind == SprayKind::rtcp) {
        EXPECT_NE(ssrc_of(packet), relay_lab::kCallerSsrc);
        EXPECT_NE(ssrc_of(packet), relay_lab::kCalleeSsrc);
      }
    }
  }
  const Parties parties = lab_parties();
  const Bytes caller_rtp = rtp_packet(relay_lab::kCallerSsrc, 1, 0, relay_lab::kCallerFill);
  const Bytes callee_rtcp = rtcp_sender_report(relay_lab::kCalleeSsrc, 0xe8000000U, 0, 0, 0);
  EXPECT_FALSE(carries_attack_marker(caller_rtp));
  EXPECT_FALSE(carries_attack_marker(callee_rtcp));
  EXPECT_EQ(origin_of(caller_rtp, parties), Origin::caller);
  EXPECT_EQ(origin_of(callee_rtcp, parties), Origin::callee);
  // The hijacker's packets carry a legitimate SSRC but are still the attacker's.
  EXPECT_EQ(origin_of(rtp_packet(relay_lab::kCallerSsrc, 2, 0, kAttackerFill), parties),
            Origin::attacker);
  // STUN: the sender is the SOFTWARE tag, not the transaction's owner.
  TransactionId id{};
  std::copy(kCallerTag.begin(), kCallerTag.end(), id.begin());
  const Bytes request = stun_message(kStunBindingRequest, id, kCallerTag);
  const Bytes response = stun_message(kStunBindingSuccess, id, kCalleeTag);
  EXPECT_EQ(rfc7983_class(request), "stun");
  EXPECT_EQ(stun_type(response), kStunBindingSuccess);
  EXPECT_EQ(stun_transaction(response), id);
  EXPECT_EQ(origin_of(request, parties), Origin::caller);
  EXPECT_EQ(origin_of(response, parties), Origin::callee);
  const Bytes verify = dtls_record(kDtlsHelloVerifyRequest, 0, kCalleeTag);
  EXPECT_EQ(rfc7983_class(verify), "dtls");
  EXPECT_EQ(dtls_handshake_type(verify), kDtlsHelloVerifyRequest);
  EXPECT_EQ(origin_of(verify, parties), Origin::callee);
  EXPECT_EQ(origin_of(Bytes{'h', 'i'}, parties), Origin::unknown);
}

TEST(AttackHarnessText, FiguresLineAndFileHaveTheDocumentedShape) {
  const TempDir dir("mpx-attack-figures");
  const ScopedEnv env("MPX_ATTACK_FIGURES_DIR", dir.path().c_str());
  Figures f{.scenario = "Shape",
            .datapath = "userspace",
            .latching = "first_packet",
            .test = "Datapaths/ShapeTest.Name/userspace",
            .sent = {10, 20, 30},
            .received = {1, 2, 3},
            .bled = 4,
            .injected = 5,
            .delivered_caller_to_callee = 0.98765,
            .delivered_callee_to_caller = std::nullopt,
            .first_ms_caller_to_callee = 12.34,
            .first_ms_callee_to_caller = std::nullopt,
            .foreign_source = 6,
            .caller_remote = "10.1.0.10:5000"};
  f.extra["k"] = 1;
  const std::string line = publish(f);
  ASSERT_EQ(line.rfind("ATTACK-FIGURES ", 0), 0U);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto json = nlohmann::json::parse(line.substr(15));
  EXPECT_EQ(json["scenario"], "Shape");
  EXPECT_EQ(json["datapath"], "userspace");
  EXPECT_EQ(json["latching"], "first_packet");
  EXPECT_EQ(json["test"], "Datapaths/ShapeTest.Name/userspace");
  EXPECT_EQ(json["sent"]["attacker"], 30);
  EXPECT_EQ(json["received"]["callee"], 2);
  EXPECT_EQ(json["bled"], 4);
  EXPECT_EQ(json["injected"], 5);
  EXPECT_DOUBLE_EQ(json["delivered"]["caller_to_callee"].get<double>(), 0.9877);
  EXPECT_TRUE(json["delivered"]["callee_to_caller"].is_null());
  EXPECT_DOUBLE_EQ(json["first_delivered_ms"]["caller_to_callee"].get<double>(), 12.3);
  EXPECT_EQ(json["foreign_source"], 6);
  EXPECT_EQ(json["caller_remote"], "10.1.0.10:5000");
  EXPECT_EQ(json["callee_remote"], "Unknown");
  EXPECT_EQ(json["extra"]["k"], 1);
  std::ifstream file(dir.path() / "Shape.userspace.json");
  ASSERT_TRUE(file.good());
  EXPECT_EQ(nlohmann::json::parse(file), json);
}

// The scenarios' relay configuration is what the relay parses: the extra options are written
// only when set, and the eBPF programs go on the NAT router's link too.
TEST(AttackHarnessText, ScenarioRelaySettingsAreAcceptedByTheConfigParser) {
  relay_lab::RelaySettings settings = attack_settings();
  settings.datapath = "xdp";
  settings.bpf_pin_path = "/sys/fs/bpf/mpx-test";
  const std::string ini = relay_lab::relay_config_ini(settings);
  auto parsed = config::try_parse_config(ini, "config.ini", "/tmp");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message << "\n" << ini;
  const auto& relay = parsed.value().relay;
  EXPECT_EQ(relay.latching_window, std::chrono::milliseconds(1000));
  EXPECT_EQ(relay.stream_timeout, std::chrono::seconds(30));
  ASSERT_EQ(relay.routable_private_ranges.size(), 1U);
  EXPECT_EQ(relay.routable_private_ranges[0].to_string(), "10.0.0.0/8");
  EXPECT_EQ(relay.bpf_interfaces, (std::vector<std::string>{"caller0", "callee0", "nat0"}));
  // The relay_lab default writes neither routable_private_ranges nor nat0.
  const std::string plain = relay_lab::relay_config_ini(relay_lab::RelaySettings{});
  EXPECT_EQ(plain.find("routable_private_ranges"), std::string::npos) << plain;
  relay_lab::RelaySettings ebpf;
  ebpf.datapath = "tc";
  EXPECT_NE(relay_lab::relay_config_ini(ebpf).find("bpf_interfaces = caller0, callee0\n"),
            std::string::npos);
}

TEST(AttackHarnessText, ScaleComesFromTheEnvironment) {
  ScopedEnv env("MPX_ATTACK_SCALE", nullptr);
  EXPECT_EQ(attack_scale(), 1);
  env.set("3");
  EXPECT_EQ(scaled(2s), 6s);
  for (const char* bad : {"0", "-2", "x", "2x", ""}) {
    env.set(bad);
    EXPECT_EQ(attack_scale(), 1) << bad;
  }
}

// MPX_ATTACK_LATCHING replaces whatever latching a scenario asks for (a baseline run).
TEST(AttackHarnessText, LatchingOverrideComesFromTheEnvironment) {
  ScopedEnv env("MPX_ATTACK_LATCHING", nullptr);
  EXPECT_EQ(scenario_latching("strict"), "strict");
  env.set("");
  EXPECT_EQ(scenario_latching("signalled_only"), "signalled_only");
  env.set("first_packet");
  EXPECT_EQ(scenario_latching("strict"), "first_packet");
  EXPECT_EQ(scenario_latching("signalled_only"), "first_packet");
}

}  // namespace
}  // namespace mpx::test::attack
