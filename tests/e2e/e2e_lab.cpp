// E2eLab and KamailioProcess (see e2e_lab.hpp).
#include "tests/e2e/e2e_lab.hpp"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/integration/relay_lab/kernel_probe.hpp"
#include "tests/support/test_pki.hpp"

namespace mpx::test::e2e {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// The PIDs whose parent is `parent` (Kamailio's workers), from /proc.
std::vector<int> children_of(int parent) {
  std::vector<int> found;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const std::string stat = read_file(entry.path() / "stat");
    const auto close = stat.rfind(')');  // comm may contain spaces
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    int ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent) {
      found.push_back(std::stoi(name));
    }
  }
  return found;
}

std::string dispatcher_config(const std::filesystem::path& dir,
                              const std::filesystem::path& rpc_socket) {
  return "[Dispatcher]\n"
         "socket_path = " + (dir / "run" / "dispatcher.sock").string() + "\n"
         "listen = " + std::string(LabAddresses::kProxy) + "\n"
         "listen_management = 127.0.0.1:25061\n"
         "management_use_tls = no\n"
         "sip_proxy = kamailio\n"
         "log_level = DEBUG\n"
         "\n[Kamailio]\n"
         "socket_path = " + rpc_socket.string() + "\n"
         "\n[TLS]\n"
         "certs_path = " + test_pki_dir().string() + "\n";
}

}  // namespace

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

std::string kamailio_config(const std::filesystem::path& module_socket,
                            const std::filesystem::path& run_dir,
                            const std::filesystem::path& rpc_socket) {
  std::string cfg = read_file(source_path("tests/e2e/kamailio.cfg.in"));
  replace_all(cfg, "@PROXY_IP@", LabAddresses::kProxy);
  replace_all(cfg, "@CALLEE_IP@", LabAddresses::kCallee);
  replace_all(cfg, "@MODULE_SOCKET@", module_socket.string());
  replace_all(cfg, "@RUN_DIR@", run_dir.string());
  replace_all(cfg, "@RPC_SOCKET@", rpc_socket.string());
  return cfg;
}

KamailioProcess::KamailioProcess(const NetnsLab& lab, const std::filesystem::path& dir,
                                 const std::filesystem::path& module_socket)
    : rpc_socket_(dir / "kamailio_rpc.sock") {
  std::filesystem::create_directories(dir);
  const auto cfg = dir / "kamailio.cfg";
  std::ofstream(cfg) << kamailio_config(module_socket, dir, rpc_socket_);
  child_ = std::make_unique<Child>(
      std::vector<std::string>{"ip", "netns", "exec", lab.ns("proxy"), "kamailio", "-f",
                               cfg.string(), "-DD", "-E", "-Y", dir.string(), "-P",
                               (dir / "kamailio.pid").string(), "-m", "64", "-M", "8"},
      (dir / "kamailio.log").string());
}

KamailioProcess::~KamailioProcess() { stop(); }

void KamailioProcess::stop() {
  if (!child_->running()) {
    return;
  }
  const std::vector<int> workers = children_of(child_->pid());
  child_->stop(5s);
  for (const int worker : workers) {
    ::kill(worker, SIGKILL);  // only if the main process died without ending them
  }
}

E2eLab::E2eLab(const std::string& datapath)
    : datapath_(datapath), lab_(std::make_unique<NetnsLab>("e2e")) {}

E2eLab::~E2eLab() {
  if (kamailio_) {
    kamailio_->stop();
  }
  relay_.reset();  // the relay first: its shutdown reports to the dispatcher
  if (dispatcher_) {
    dispatcher_->stop(5s);
  }
  lab_.reset();
}

::testing::AssertionResult E2eLab::start() {
  const auto& dir = dir_.path();
  std::filesystem::create_directories(dir / "run");
  const auto kamailio_dir = dir / "kamailio";
  const auto rpc_socket = kamailio_dir / "kamailio_rpc.sock";
  dir_.write("config.ini", dispatcher_config(dir, rpc_socket));
  // `ip netns exec` execs the daemon in place, so the Child's PID is the dispatcher's.
  dispatcher_ = std::make_unique<Child>(
      std::vector<std::string>{"ip", "netns", "exec", lab_->ns("proxy"), MPX_DISPATCHER_BINARY,
                               "--config-dir", dir.string(), "--runtime-dir",
                               (dir / "run").string(), "--no-fork"},
      (dir / "dispatcher.log").string());
  const auto module_socket = dir / "run" / "dispatcher.sock";
  if (!eventually([&] { return std::filesystem::exists(module_socket); }, 10s)) {
    return ::testing::AssertionFailure() << "mpx-dispatcher did not open its module socket";
  }

  relay_lab::RelaySettings relay;
  relay.datapath = datapath_;
  relay.stream_timeout = kStreamTimeout;
  relay.on_hold_timeout = 10;
  relay.bpf_pin_path = (lab_->bpffs_dir() / "relay").string();
  relay_ = std::make_unique<relay_lab::RelayProcess>(*lab_, relay);
  if (!eventually([&] { return dispatcher_->log().find(" connected") != std::string::npos; },
                  10s)) {
    return ::testing::AssertionFailure() << "mpx-relay did not register with the dispatcher";
  }

  kamailio_ = std::make_unique<KamailioProcess>(*lab_, kamailio_dir, module_socket);
  // Ready once jsonrpcs made its datagram socket and the workers (which connect to the module
  // socket on their own) are forked.
  if (!eventually([&] { return std::filesystem::exists(rpc_socket); }, 10s)) {
    return ::testing::AssertionFailure() << "Kamailio did not start (no " << rpc_socket << ")";
  }
  std::this_thread::sleep_for(300ms);
  if (!kamailio_->running()) {
    return ::testing::AssertionFailure() << "Kamailio exited at start-up";
  }
  return ::testing::AssertionSuccess();
}

Result<nlohmann::json> E2eLab::sessions() const {
  const RunResult listed =
      lab_->exec("proxy", {MPX_MPXCTL_BINARY, "--json", "--timeout", "3", "sessions"}, 10s);
  if (listed.exit_code != 0) {
    return Error{"mpxctl sessions failed (" + std::to_string(listed.exit_code) +
                 "): " + listed.err + listed.out};
  }
  auto document = nlohmann::json::parse(listed.out, nullptr, false);
  if (document.is_discarded() || !document.is_array()) {
    return Error{"mpxctl --json sessions printed no JSON array: " + listed.out};
  }
  return document;
}

std::string E2eLab::kernel_leftovers() const {
  std::string left;
  auto entries = relay_lab::marked_entries(*lab_);
  if (!entries) {
    left += "cannot read conntrack: " + entries.error().message + "\n";
  } else if (!entries.value().empty()) {
    left += "conntrack entries: " + relay_lab::describe(entries.value()) + "\n";
  }
  auto ports = relay_lab::bound_udp_ports(*lab_, relay_lab::kFirstPort, relay_lab::kLastPort);
  if (!ports) {
    left += "cannot list sockets: " + ports.error().message + "\n";
  } else if (!ports.value().empty()) {
    left += std::to_string(ports.value().size()) + " media socket(s) still bound\n";
  }
  if (relay_lab::is_ebpf(datapath_)) {
    const auto map = lab_->bpffs_dir() / "relay" / "mpx_flows";
    const RunResult dumped = run({"bpftool", "-j", "map", "dump", "pinned", map.string()}, 10s);
    const auto flows = nlohmann::json::parse(dumped.out, nullptr, false);
    if (dumped.exit_code != 0 || flows.is_discarded() || !flows.is_array()) {
      left += "cannot dump " + map.string() + ": " + dumped.err + "\n";
    } else if (!flows.empty()) {
      left += std::to_string(flows.size()) + " eBPF flow(s) in " + map.string() + "\n";
    }
  }
  return left;
}

std::string E2eLab::logs() const {
  std::string all;
  if (dispatcher_) {
    all += "--- mpx-dispatcher log\n" + dispatcher_->log();
  }
  if (relay_) {
    all += "--- mpx-relay log\n" + relay_->log();
  }
  if (kamailio_) {
    all += "--- Kamailio log\n" + kamailio_->log();
  }
  return all;
}

}  // namespace mpx::test::e2e
