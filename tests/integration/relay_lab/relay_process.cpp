// RelayProcess (see relay_process.hpp).
#include "tests/integration/relay_lab/relay_process.hpp"

#include <signal.h>

#include <cstdlib>

#include "tests/support/test_pki.hpp"

namespace mpx::test::relay_lab {

std::string relay_config_ini(const RelaySettings& s) {
  const std::string ebpf = is_ebpf(s.datapath) ? "bpf_interfaces = " + s.bpf_interfaces + "\n"
                                                 "xdp_mode = " +
                                                 std::string(s.datapath == "xdp_native"
                                                                 ? "native"
                                                                 : "generic") +
                                                 "\n"
                                                 "bpf_pin_path = " + s.bpf_pin_path + "\n"
                                               : "";
  const std::string state =
      s.state_file.empty() ? std::string() : "state_file = " + s.state_file + "\n";
  const std::string routable =
      s.routable_private_ranges.empty()
          ? std::string()
          : "routable_private_ranges = " + s.routable_private_ranges + "\n";
  return "[Relay]\n" + ebpf + state + routable +
         "dispatchers = " + std::string(LabAddresses::kProxy) + "\n"
         "relay_ip = " + std::string(LabAddresses::kRelayPublic) + "\n"
         "port_range = " + s.port_range + "\n"
         "stream_timeout = " + std::to_string(s.stream_timeout) + "\n"
         "on_hold_timeout = " + std::to_string(s.on_hold_timeout) + "\n"
         "datapath = " + config_datapath(s.datapath) + "\n"
         "latching = " + s.latching + "\n"
         "latching_window_ms = " + std::to_string(s.latching_window_ms) + "\n"
         "traffic_sampling_period = " + std::to_string(s.traffic_sampling_period) + "\n"
         "log_level = " + s.log_level + "\n"
         "listen_metrics = " + s.listen_metrics + "\n"
         "\n[TLS]\n"
         "certs_path = " + test_pki_dir().string() + "\n";
}

std::string relay_binary() {
  const char* other = std::getenv("MPX_TEST_RELAY_BINARY");
  if (other != nullptr && *other != '\0') {
    return other;
  }
  return MPX_RELAY_BINARY;
}

RelayProcess::RelayProcess(const NetnsLab& lab, const RelaySettings& settings)
    : settings_(settings) {
  dir_.write("config.ini", relay_config_ini(settings_));
  // `ip netns exec` execs the program in place (no fork), so the PID is the relay's.
  child_ = std::make_unique<Child>(
      std::vector<std::string>{"ip", "netns", "exec", lab.ns("relay"), relay_binary(),
                               "--config-dir", dir_.path().string(), "--runtime-dir",
                               (dir_.path() / "run").string(), "--no-fork"},
      (dir_.path() / "relay.log").string());
}

RelayProcess::~RelayProcess() { child_->stop(std::chrono::seconds(5)); }

int RelayProcess::stop(std::chrono::milliseconds grace) { return child_->stop(grace); }

void RelayProcess::hangup() { ::kill(child_->pid(), SIGHUP); }

int RelayProcess::wait(std::chrono::milliseconds timeout) { return child_->wait(timeout); }

int RelayProcess::kill_hard() {
  ::kill(child_->pid(), SIGKILL);
  return child_->wait(std::chrono::seconds(5));
}

}  // namespace mpx::test::relay_lab
