// E2eLab: one network lab with the whole production chain started as real processes:
// mpx-dispatcher (proxy namespace, config written here, relays over TLS with the test PKI,
// management plain on 127.0.0.1:25061, sip_proxy = kamailio), mpx-relay (relay namespace, via
// relay_lab's RelayProcess, for one datapath) and Kamailio 5.6 (proxy namespace, 10.3.0.30:5060,
// tests/e2e/kamailio.cfg.in filled in). Everything is stopped (by PID) and the lab removed on
// destruction, also when a test failed. Also: the dispatcher's live sessions (mpxctl --json) and
// what the relay left in the kernel.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "tests/integration/relay_lab/relay_process.hpp"
#include "tests/support/netns_lab.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::test::e2e {

inline constexpr int kStreamTimeout = 3;  // seconds; the media-stops case waits for it

// Kamailio in the proxy namespace, in the foreground (-DD -E) with its own runtime dir and small
// shared memory. It forks workers: stop() sends SIGTERM to the main PID (which ends its
// workers) and SIGKILLs the workers it knew of if the main process had to be killed.
class KamailioProcess {
 public:
  KamailioProcess(const NetnsLab& lab, const std::filesystem::path& dir,
                  const std::filesystem::path& module_socket);
  ~KamailioProcess();
  KamailioProcess(const KamailioProcess&) = delete;
  KamailioProcess& operator=(const KamailioProcess&) = delete;

  const std::filesystem::path& rpc_socket() const { return rpc_socket_; }
  bool running() { return child_->running(); }
  void stop();
  std::string log() const { return child_->log(); }

 private:
  std::filesystem::path rpc_socket_;
  std::unique_ptr<Child> child_;
};

// The kamailio.cfg for the lab: tests/e2e/kamailio.cfg.in with its placeholders filled in.
std::string kamailio_config(const std::filesystem::path& module_socket,
                            const std::filesystem::path& run_dir,
                            const std::filesystem::path& rpc_socket);

class E2eLab {
 public:
  explicit E2eLab(const std::string& datapath);
  ~E2eLab();
  E2eLab(const E2eLab&) = delete;
  E2eLab& operator=(const E2eLab&) = delete;

  // Starts dispatcher, relay and Kamailio and waits until each is ready.
  ::testing::AssertionResult start();

  NetnsLab& lab() { return *lab_; }
  const std::filesystem::path& work_dir() const { return dir_.path(); }
  const std::string& datapath() const { return datapath_; }

  // `mpxctl --json sessions` run in the proxy namespace; an error message on failure.
  Result<nlohmann::json> sessions() const;
  // "" when nothing of a call is left: no relay conntrack entries, no eBPF flows (xdp/tc), no
  // media sockets bound in the port range; else what is left.
  std::string kernel_leftovers() const;
  // The logs of every process, for a failure message.
  std::string logs() const;

 private:
  std::string datapath_;
  std::unique_ptr<NetnsLab> lab_;
  TempDir dir_{"mpx-e2e"};
  std::unique_ptr<Child> dispatcher_;
  std::unique_ptr<relay_lab::RelayProcess> relay_;
  std::unique_ptr<KamailioProcess> kamailio_;
};

// Polls condition every 100 ms until it holds or timeout passes; its last value.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace mpx::test::e2e
