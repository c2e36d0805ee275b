// SippCall: one call between two real sipp instances through the lab's Kamailio: the callee
// (UAS, 10.2.0.20:5060, media port 6000) in the callee namespace and the caller (UAC,
// 10.1.0.10:5060, media port 5000) in the caller namespace, each with `-m 1`, a global timeout
// and its scenario from tests/e2e/scenarios/ (the @PCAP@ placeholder filled in). Both play RTP
// from a pcap. The processes are stopped on destruction if still running.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/netns_lab.hpp"
#include "tests/support/subprocess.hpp"

namespace mpx::test::e2e {

inline constexpr std::uint16_t kCallerMediaPort = 5000;
inline constexpr std::uint16_t kCalleeMediaPort = 6000;
inline constexpr int kPcapPackets = 100;  // 2 s of G.711 at 20 ms

// Writes the first `packets` packets of sipp's g711a.pcap to `target` (shorter calls).
void write_short_pcap(const std::filesystem::path& target, int packets);

struct SippCallPlan {
  std::string uac_scenario = "uac_call.xml";
  std::string uas_scenario = "uas_call.xml";
  std::string service;  // the Request-URI user: "engage-..." picks engage_media_proxy()
  std::chrono::milliseconds pause{3000};  // sipp -d: the UAC's <pause/>
};

class SippCall {
 public:
  // Starts the callee, then (once it listens) the caller.
  SippCall(const NetnsLab& lab, const std::filesystem::path& work_dir,
           const std::filesystem::path& pcap, const SippCallPlan& plan);
  ~SippCall();
  SippCall(const SippCall&) = delete;
  SippCall& operator=(const SippCall&) = delete;

  // Exit statuses (0: the call succeeded), waiting up to `timeout`; -1000 when still running.
  int wait_caller(std::chrono::milliseconds timeout) { return uac_->wait(timeout); }
  int wait_callee(std::chrono::milliseconds timeout) { return uas_->wait(timeout); }
  // sipp's screens, message traces and error logs of both sides.
  std::string report() const;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Child> uas_;
  std::unique_ptr<Child> uac_;
};

}  // namespace mpx::test::e2e
