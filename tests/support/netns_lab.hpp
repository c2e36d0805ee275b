// NetnsLab: the network lab of scripts/lab.sh as a C++ test fixture.
//
// Topology (addresses exist only inside the lab's namespaces; names are unique per lab):
//
//   caller 10.1.0.10 --eth0|caller0-- relay --callee0|eth0-- callee 10.2.0.20
//                                     |  public 203.0.113.1/32 on lo, ip_forward=1
//                                     proxy0 10.3.0.1
//                                     |eth0
//                                   proxy 10.3.0.30   (dispatcher, SIP proxy)
//
// Variant kTwoRelays adds relay2 (public 203.0.113.2) linked to caller (10.1.1.0/24), callee
// (10.2.1.0/24) and proxy (10.3.1.0/24), and an attacker 10.4.0.40 linked to relay (10.4.0.1).
//
// Variant kAttack adds, to the basic lab, the attacker (as in kTwoRelays, no relay2) and an
// endpoint behind a NAT router:
//
//   attacker 10.4.0.40 --eth0|attacker0 10.4.0.1-- relay --nat0 10.5.0.1|eth0-- nat
//                                                       10.5.0.10/24 and 10.5.0.11/24 on eth0
//                                                       eth1 192.168.0.1
//                                                        |eth0
//                                                      natted 192.168.0.10
//
// nat forwards (ip_forward=1) and its nftables table `ip labnat` (chain postrouting) SNATs
// 192.168.0.0/24 leaving eth0 to 10.5.0.10, UDP/TCP ports mapped into 30000-39999 (the NAT
// rewrites ports; a test may move the mapping to 10.5.0.11 by replacing the rules). natted's
// default route is via 192.168.0.1, nat's via 10.5.0.1. The relay has NO route to
// 192.168.0.0/24 (a private network behind a NAT is unreachable, as on the Internet), and a
// static neighbour for 10.5.0.11 with nat eth0's MAC. (Through the relay's plain forwarding,
// natted also reaches caller, callee and proxy, always as 10.5.0.10/.11 on a mapped port.)
//
// Every link has static neighbours; IPv6 is off; tx checksum offload is off on the endpoints'
// veths (see spec/kernel-datapaths.md, XDP_REDIRECT and CHECKSUM_PARTIAL). A bpffs is mounted at
// bpffs_dir() in the root mount namespace, so `ip netns exec` sees it.
//
// Details scripts/lab.sh guarantees (tests may rely on them):
// - Interfaces: endpoints use eth0 for the relay link and eth1 for the relay2 link; a relay names
//   its side after the peer role (caller0, callee0, proxy0, attacker0, nat0); nat uses eth1 for
//   its private link. MAC = 02:00 + the four octets of the interface's (first) IPv4 address
//   (10.1.0.10 -> 02:00:0a:01:00:0a).
// - Routes: caller, callee and proxy have a default route via the relay (10.x.0.1), so the relay
//   forwards plain IP between them (no NAT: the callee sees the caller's 10.1.0.10). In kTwoRelays
//   they also have a host route to 203.0.113.2 via relay2 (an unbound socket then uses the eth1
//   source 10.1.1.10 / 10.2.1.20 / 10.3.1.30), and relay2 has host routes to 10.1.0.10, 10.2.0.20
//   and 10.3.0.30 over its own links. The relays have no route to each other's public address.
// - The attacker has NO default route: only its link 10.4.0.0/24 and 203.0.113.1 via the relay.
//   It cannot address the callee, caller or proxy at all (ENETUNREACH), so whatever reaches them
//   from the attacker went through the relay's public address (a relay's media ports). Its
//   raw-socket packets with a forged source are accepted by the relay (rp_filter=0).
// - ip_forward=1 only in relay, relay2 and nat; rp_filter=0 in every lab namespace.
// - tx checksum offload is off on every veth of caller, callee, proxy, attacker, nat and natted.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/subprocess.hpp"

namespace mpx::test {

struct LabAddresses {
  static constexpr const char* kCaller = "10.1.0.10";
  static constexpr const char* kCallee = "10.2.0.20";
  static constexpr const char* kProxy = "10.3.0.30";
  static constexpr const char* kRelayPublic = "203.0.113.1";
  static constexpr const char* kRelayCallerSide = "10.1.0.1";
  static constexpr const char* kRelayCalleeSide = "10.2.0.1";
  static constexpr const char* kRelayProxySide = "10.3.0.1";
  static constexpr const char* kRelay2Public = "203.0.113.2";
  static constexpr const char* kCaller2 = "10.1.1.10";  // caller's address on the relay2 link
  static constexpr const char* kCallee2 = "10.2.1.20";
  static constexpr const char* kProxy2 = "10.3.1.30";
  static constexpr const char* kAttacker = "10.4.0.40";
  static constexpr const char* kRelayAttackerSide = "10.4.0.1";
  // kAttack: the NAT router's two public addresses (the lab maps to the first), the relay's side
  // of that link, the router's private side and the endpoint behind it.
  static constexpr const char* kNatPublic = "10.5.0.10";
  static constexpr const char* kNatPublic2 = "10.5.0.11";
  static constexpr const char* kRelayNatSide = "10.5.0.1";
  static constexpr const char* kNatPrivateSide = "192.168.0.1";
  static constexpr const char* kNatted = "192.168.0.10";
  // The ports the NAT maps UDP and TCP into.
  static constexpr int kNatFirstPort = 30000;
  static constexpr int kNatLastPort = 39999;
};

// A lab name unique in this process and among concurrently running processes:
// "<base>-<pid>-<counter>", base cut to 12 characters (lab.sh accepts at most 32).
std::string unique_lab_name(const std::string& base);
// scripts/lab.sh in the source tree.
std::string lab_script();

class NetnsLab {
 public:
  enum class Variant { kBasic, kTwoRelays, kAttack };

  // Creates the lab (scripts/lab.sh up). The name gets a per-process suffix so parallel tests
  // never collide; throws std::runtime_error with lab.sh's output if creation fails.
  explicit NetnsLab(const std::string& base_name, Variant variant = Variant::kBasic);
  // Removes everything (scripts/lab.sh down), also when the test failed.
  ~NetnsLab();
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  const std::string& name() const { return name_; }
  // Namespace names: role is "caller", "relay", "callee", "proxy", "relay2", "attacker", "nat" or
  // "natted".
  std::string ns(const std::string& role) const;
  std::filesystem::path bpffs_dir() const;

  // Runs argv inside the role's namespace (ip netns exec).
  RunResult exec(const std::string& role, const std::vector<std::string>& argv,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // Runs fn with the calling thread switched into the role's network namespace (setns), then
  // switches back. Sockets created inside stay in that namespace.
  void in_ns(const std::string& role, const std::function<void()>& fn) const;

 private:
  std::string name_;
};

}  // namespace mpx::test
