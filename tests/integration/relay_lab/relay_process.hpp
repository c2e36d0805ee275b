// RelayProcess: the mpx-relay daemon under test, started inside the lab's relay namespace
// (`ip netns exec <ns> mpx-relay --config-dir DIR --runtime-dir DIR/run --no-fork`) with a
// config.ini written from RelaySettings and the test PKI as TLS.certs_path. Output goes to a log
// file the tests print on failure. Stopped by SIGTERM to its PID only, with a bounded wait.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/netns_lab.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::test::relay_lab {

inline constexpr std::uint16_t kFirstPort = 40000;
inline constexpr std::uint16_t kLastPort = 40101;  // the RTCP port of the last pair of 40000:40100

struct RelaySettings {
  std::string datapath = "conntrack";  // conntrack | userspace | xdp | xdp_native | tc
  std::string port_range = "40000:40100";
  int stream_timeout = 3;
  int on_hold_timeout = 5;
  std::string latching = "strict";
  int latching_window_ms = 500;
  int traffic_sampling_period = 1;
  std::string log_level = "DEBUG";
  std::string listen_metrics = "none";
  // xdp / tc: bpffs directory for the maps (the lab's bpffs; set by RelayLab::start_relay).
  std::string bpf_pin_path;
  // [Relay] state_file (conntrack, xdp, tc); empty: the default (in the relay's own runtime directory, so
  // a restarted RelayProcess does not see it). A test restarting the relay names one it owns.
  std::string state_file;
  // [Relay] routable_private_ranges; empty: the option is not written (the relay's default).
  std::string routable_private_ranges;
  // [Relay] bpf_interfaces for the eBPF datapaths: the relay's links media arrives on (the attack
  // lab adds nat0).
  std::string bpf_interfaces = "caller0, callee0";
};

// The eBPF datapaths attach to the relay's links to caller and callee: "xdp" in generic mode,
// "xdp_native" in native mode (a native XDP_REDIRECT into a veth is delivered only when the
// peer has GRO on: RelayLab::start_relay turns it on in the peers' namespaces), "tc".
inline bool is_ebpf(const std::string& datapath) {
  return datapath == "xdp" || datapath == "xdp_native" || datapath == "tc";
}
// The [Relay] datapath value of a test datapath ("xdp_native" is datapath = xdp).
inline std::string config_datapath(const std::string& datapath) {
  return datapath == "xdp_native" ? "xdp" : datapath;
}

// The [Relay]/[TLS] config.ini text for these settings (dispatcher 10.3.0.30, relay_ip
// 203.0.113.1).
std::string relay_config_ini(const RelaySettings& settings);
// The mpx-relay binary of this build, or env MPX_TEST_RELAY_BINARY when set (to run the same
// tests against another build of the daemon, e.g. a baseline before a change).
std::string relay_binary();

class RelayProcess {
 public:
  RelayProcess(const NetnsLab& lab, const RelaySettings& settings);
  ~RelayProcess();  // SIGTERM (SIGKILL after the grace) if still running
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  int pid() const { return child_->pid(); }
  bool running() { return child_->running(); }
  // SIGTERM to the relay's PID, wait up to `grace` (then SIGKILL); the exit status, or -signal.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // SIGKILL (a crash: no clean-up runs) and wait; the status (-9).
  int kill_hard();
  // SIGHUP (graceful drain), without waiting.
  void hangup();
  // Waits up to `timeout` for the relay to exit on its own; its status, or -1 if still running.
  int wait(std::chrono::milliseconds timeout);
  std::string log() const { return child_->log(); }
  const RelaySettings& settings() const { return settings_; }
  const std::filesystem::path& config_dir() const { return dir_.path(); }

 private:
  RelaySettings settings_;
  TempDir dir_{"mpx-relay-lab"};
  std::unique_ptr<Child> child_;
};

}  // namespace mpx::test::relay_lab
