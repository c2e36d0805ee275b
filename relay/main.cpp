// mpx-relay entry point (compat spec 5.1, 5.13): configuration, the relay's address, the open
// file limit, the datapath ([Relay] datapath: conntrack prepares the network namespace, xdp and
// tc load and attach their programs, userspace needs nothing; the kernel datapaths re-adopt the
// flows of the sessions their state file lets them recover and remove the others), TLS,
// daemonizing and the PID file, then the event loop: media sockets, sessions and the links to
// every dispatcher.
// Signals: SIGHUP drains (new sessions refused, exit once the last one ends), SIGINT/SIGTERM
// expire every session, report its statistics, remove every flow and exit; SIGUSR1 toggles DEBUG.
// A clean exit deletes the state file (nothing is left to recover).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include "common/daemon/detach.hpp"
#include "common/daemon/startup.hpp"
#include "common/log/debug_toggle_signal.hpp"
#include "common/tls/context.hpp"
#include "common/version.hpp"
#include "relay/link/dispatcher_links.hpp"
#include "relay/link/link_options.hpp"
#include "common/metrics/metrics_server.hpp"
#include "relay/recovery/state_file.hpp"
#include "relay/service/relay_metrics.hpp"
#include "relay/service/relay_service.hpp"
#include "relay/system/file_limit.hpp"
#include "relay/system/local_address.hpp"
#include "userspace/bpf/bpf_datapath.hpp"
#include "userspace/conntrack/conntrack_datapath.hpp"
#include "userspace/conntrack/sysctl.hpp"
#include "userspace/conntrack/namespace_preparer.hpp"
#include "userspace/socket/media_sockets.hpp"
#include "userspace/socket/userspace_datapath.hpp"

namespace {

constexpr const char* kProgram = "mpx-relay";
// Time the last `expired` lines get to reach the dispatchers on SIGINT/SIGTERM.
constexpr auto kFlushBudget = std::chrono::seconds(3);

int fail(mpx::daemon::StartupReporter& reporter, const std::string& line) {
  spdlog::error("{}", line);
  std::cerr << kProgram << ": " << line << "\n";
  reporter.failed(line);
  return 1;
}

// The kernel state the conntrack datapath needs; kept for the relay's lifetime.
struct ConntrackParts {
  std::optional<mpx::datapath::NamespacePreparer> preparer;
  std::unique_ptr<mpx::datapath::ConntrackDatapath> datapath;
};

// The XDP or TC datapath: the program forwards routed traffic (its fib lookup needs
// ip_forward), attaches to bpf_interfaces and pins its maps under bpf_pin_path. Flows a
// previous instance left (a crash, or a restart) are adopted(): recover_previous_relay() below
// re-adopts those of the sessions it recovers and removes the others.
mpx::Result<std::unique_ptr<mpx::datapath::BpfDatapath>> open_bpf_datapath(
    const mpx::config::RelayConfig& relay) {
  if (auto forwarding = mpx::datapath::write_sysctl("net.ipv4.ip_forward", "1"); !forwarding) {
    return mpx::Error{"eBPF datapath: cannot enable IPv4 forwarding: " +
                      forwarding.error().message};
  }
  mpx::datapath::BpfDatapath::Options options;
  options.program = relay.datapath == mpx::config::Datapath::xdp
                        ? mpx::datapath::BpfDatapath::Program::xdp
                        : mpx::datapath::BpfDatapath::Program::tc;
  options.xdp_mode = relay.xdp_mode == mpx::config::XdpMode::generic
                         ? mpx::datapath::BpfDatapath::XdpMode::generic
                         : mpx::datapath::BpfDatapath::XdpMode::native;
  options.interfaces = relay.bpf_interfaces;
  options.pin_dir = relay.bpf_pin_path;
  // Two flows (RTP, RTCP) of two directions per stream, a stream per two port pairs.
  options.max_flows = std::max<std::uint32_t>(1024, relay.port_range.pair_count() * 2);
  auto opened = mpx::datapath::BpfDatapath::open(options);
  if (!opened) {
    return mpx::Error{"eBPF datapath: " + opened.error().message};
  }
  spdlog::info("eBPF datapath: {}", opened.value()->attach_mode());
  return std::move(opened).value();
}

// A kernel datapath's flows as the restart recovery sees them: which flows a previous instance
// left, how to take one over and how to remove the others.
struct LeftoverFlows {
  std::string name;   // the datapath ("xdp", "tc", "conntrack")
  std::string where;  // for the log: the pin directory, the conntrack mark
  std::function<std::vector<mpx::datapath::Flow>()> installed;
  std::function<mpx::Result<void>(const mpx::datapath::Flow&)> claim;
  std::function<std::size_t(const std::vector<mpx::datapath::Flow>&)> remove;  // how many went
};

// Restart without cutting calls (issue 5 point 4): the sessions of the previous instance's state
// file whose flows the kernel still holds are re-created; every other flow it left is removed.
// A missing or unusable state file recovers nothing (and says why).
void recover_previous_relay(mpx::relay::service::RelayService& service,
                            const LeftoverFlows& kernel, const std::filesystem::path& state_file) {
  mpx::relay::service::RecoveryReport report;
  auto loaded = mpx::relay::recovery::read_state_file(state_file);
  if (!loaded) {
    spdlog::error("state file unusable, no session recovered: {}", loaded.error().message);
  } else if (loaded.value() && loaded.value()->datapath != kernel.name) {
    spdlog::warn("state file {} was written with datapath {}, not {}: no session recovered",
                 state_file.string(), loaded.value()->datapath, kernel.name);
  } else if (loaded.value()) {
    report = service.recover(*loaded.value(), kernel.claim);
  }
  std::vector<mpx::datapath::Flow> leftovers;
  for (const auto& flow : kernel.installed()) {
    if (std::find(report.flows.begin(), report.flows.end(), flow) == report.flows.end()) {
      leftovers.push_back(flow);
    }
  }
  if (!leftovers.empty()) {
    spdlog::warn("{} datapath: removed {} flow(s) a previous relay left in {}", kernel.name,
                 kernel.remove(leftovers), kernel.where);
  }
  if (loaded && loaded.value()) {
    spdlog::info("restart: {} session(s) recovered, {} dropped; {} flow(s) re-adopted, {} removed",
                 report.recovered.size(), report.dropped.size(), report.flows.size(),
                 leftovers.size());
  }
}

template <typename KernelDatapath>
std::size_t remove_flows(KernelDatapath& datapath, const std::vector<mpx::datapath::Flow>& flows) {
  std::size_t removed = 0;
  for (const auto& result : datapath.remove_batch(flows)) {
    removed += result ? 1U : 0U;
  }
  return removed;
}

}  // namespace

int main(int argc, char** argv) {
  const mpx::daemon::ProgramInfo info{kProgram, "MediaProxy-compatible media relay"};
  auto started = mpx::daemon::start(argc, argv, info, mpx::daemon::Role::kRelay);
  if (const auto* exit_now = std::get_if<mpx::daemon::ExitNow>(&started)) {
    return exit_now->status;
  }
  const auto& [cli, config] = std::get<mpx::daemon::Started>(started);
  const auto& relay = config.relay;
  mpx::daemon::StartupReporter reporter;

  const bool ebpf =
      relay.datapath == mpx::config::Datapath::xdp || relay.datapath == mpx::config::Datapath::tc;
  if (ebpf && relay.bpf_interfaces.empty()) {
    return fail(reporter, config.describe_option("Relay", "datapath") + " = " +
                              std::string(mpx::config::to_string(relay.datapath)) +
                              " needs [Relay] bpf_interfaces: the interfaces media arrives on");
  }
  if (relay.dispatchers.empty()) {
    return fail(reporter, "[Relay] dispatchers is empty: the relay would serve nobody");
  }
  auto relay_ip = relay.relay_ip ? mpx::Result<boost::asio::ip::address_v4>(*relay.relay_ip)
                                 : mpx::relay::system::default_route_address();
  if (!relay_ip) {
    return fail(reporter, relay_ip.error().message);
  }
  // Two sockets per port, plus headroom for the links, netlink and logs (spec 5.1).
  const auto limit = mpx::relay::system::raise_file_limit(relay.port_range.end -
                                                          relay.port_range.start + 1000);
  if (!limit) {
    return fail(reporter, limit.error().message);
  }
  auto links_options = mpx::relay::link::links_options(relay, config.tls);
  if (!links_options) {
    return fail(reporter, links_options.error().message);
  }
  std::optional<boost::asio::ssl::context> tls;
  try {
    tls.emplace(mpx::tls::make_context(mpx::tls::Role::relay, config.certs_dir()));
  } catch (const std::exception& error) {
    return fail(reporter, error.what());
  }

  boost::asio::io_context io(1);
  mpx::relay::service::RelayService* service_ptr = nullptr;
  mpx::datapath::MediaSockets sockets(io.get_executor(),
                                      [&service_ptr](const mpx::datapath::MediaSockets::Packet& p) {
                                        if (service_ptr) {
                                          service_ptr->engine().on_packet(p);
                                        }
                                      });
  sockets.set_transmit_every(relay.userspace_transmit_every);

  ConntrackParts conntrack;
  std::unique_ptr<mpx::datapath::Datapath> userspace;
  std::unique_ptr<mpx::datapath::BpfDatapath> bpf;
  mpx::datapath::Datapath* datapath = nullptr;
  if (ebpf) {
    auto opened = open_bpf_datapath(relay);
    if (!opened) {
      return fail(reporter, opened.error().message);
    }
    bpf = std::move(opened).value();
    datapath = bpf.get();
  } else if (relay.datapath == mpx::config::Datapath::conntrack) {
    mpx::datapath::NamespacePreparer::Options namespace_options;
    namespace_options.own_ports = std::pair{static_cast<std::uint16_t>(relay.port_range.start),
                                            static_cast<std::uint16_t>(relay.port_range.end - 1)};
    auto prepared = mpx::datapath::NamespacePreparer::prepare(namespace_options);
    if (!prepared) {
      return fail(reporter, "conntrack datapath: " + prepared.error().message);
    }
    conntrack.preparer.emplace(std::move(prepared).value());
    mpx::datapath::ConntrackDatapath::Options options;
    options.adopt_leftovers = true;  // recover_previous_relay() decides what stays
    auto opened = mpx::datapath::ConntrackDatapath::open(options);
    if (!opened) {
      return fail(reporter, "conntrack datapath: " + opened.error().message);
    }
    conntrack.datapath = std::move(opened).value();
    datapath = conntrack.datapath.get();
  } else {
    userspace = std::make_unique<mpx::datapath::UserspaceDatapath>(sockets);
    datapath = userspace.get();
  }

  auto settings =
      mpx::relay::service::service_settings(relay, relay_ip.value(), datapath->name());
  // Only a kernel datapath's flows outlive the process: its sessions are worth persisting.
  std::filesystem::path state_file;
  if (bpf || conntrack.datapath) {
    state_file = relay.state_file.is_absolute() ? relay.state_file
                                                : cli.runtime_dir / relay.state_file;
    std::error_code ignored;
    std::filesystem::create_directories(state_file.parent_path(), ignored);
    settings.state_file = state_file;
  }
  if (conntrack.datapath) {
    // The conntrack lease must be re-armed in time (ConntrackDatapath's Lifetime).
    settings.engine.poll_interval =
        std::min<std::chrono::milliseconds>(settings.engine.poll_interval,
                                            conntrack.datapath->max_poll_interval() / 3);
  }
  mpx::relay::service::RelayService service(io.get_executor(), settings, sockets, *datapath);
  service_ptr = &service;
  if (bpf) {
    recover_previous_relay(
        service,
        LeftoverFlows{bpf->name(), relay.bpf_pin_path.string(), [&bpf] { return bpf->flows(); },
                      [&bpf](const mpx::datapath::Flow& flow) { return bpf->claim_adopted(flow); },
                      [&bpf](const std::vector<mpx::datapath::Flow>& flows) {
                        return remove_flows(*bpf, flows);
                      }},
        state_file);
  } else if (conntrack.datapath) {
    auto& kernel = *conntrack.datapath;
    recover_previous_relay(
        service,
        LeftoverFlows{kernel.name(), fmt::format("conntrack (mark {:#x})", kernel.options().mark),
                      [&kernel] { return kernel.flows(); },
                      [&kernel](const mpx::datapath::Flow& flow) {
                        return kernel.claim_adopted(flow);
                      },
                      [&kernel](const std::vector<mpx::datapath::Flow>& flows) {
                        return remove_flows(kernel, flows);
                      }},
        state_file);
  }
  if (bpf) {
    service.set_datapath_details([&bpf] {
      return mpx::relay::service::DatapathDetails{bpf->attach_mode(), bpf->verdict_counters()};
    });
  }
  mpx::relay::link::DispatcherLinks links(
      io.get_executor(), *tls, links_options.value(), service, nullptr,
      [&service](const mpx::relay::link::DispatcherId& id) { return service.owns_sessions(id); });
  service.set_links(&links);

  std::unique_ptr<mpx::metrics::MetricsServer> metrics;
  if (relay.listen_metrics) {
    const boost::asio::ip::tcp::endpoint listen{
        relay.listen_metrics->ip.value_or(boost::asio::ip::address_v4::any()),
        relay.listen_metrics->port};
    auto created = mpx::metrics::MetricsServer::create(io.get_executor(), listen, [&] {
      return mpx::relay::service::relay_metrics(service, sockets.stats(), links.connected_count());
    });
    if (!created) {
      return fail(reporter, created.error().message);
    }
    metrics = std::move(created).value();
  }

  auto detached = mpx::daemon::detach(cli, kProgram, io, reporter);
  if (!detached) {
    return fail(reporter, detached.error().message);
  }
  auto pid_file = std::move(detached).value();

  auto debug_toggle = mpx::log::watch_debug_toggle(io.get_executor());
  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  boost::asio::steady_timer flush_timer(io);
  bool stopping = false;
  const auto finish = [&] {
    if (metrics) {
      metrics->stop();
    }
    links.stop();
    service.stop();
    signals.cancel();
    flush_timer.cancel();
    debug_toggle->cancel();
    io.stop();
  };
  // Lets the links write the last `expired` lines, within kFlushBudget.
  std::function<void(std::chrono::steady_clock::time_point)> flush_then_finish =
      [&](std::chrono::steady_clock::time_point deadline) {
        if (links.pending_writes() == 0 || std::chrono::steady_clock::now() >= deadline) {
          finish();
          return;
        }
        flush_timer.expires_after(std::chrono::milliseconds(20));
        flush_timer.async_wait([&, deadline](const boost::system::error_code& error) {
          if (!error) {
            flush_then_finish(deadline);
          }
        });
      };
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& error, int signal) {
      if (error || stopping) {
        return;
      }
      if (signal == SIGHUP) {
        spdlog::info("SIGHUP: draining");
        service.drain([&] {
          if (stopping) {
            return;
          }
          spdlog::info("no session left: stopping");
          stopping = true;
          flush_then_finish(std::chrono::steady_clock::now() + kFlushBudget);
        });
        wait_signal();
        return;
      }
      stopping = true;
      spdlog::info("signal {}: expiring {} session(s) and stopping", signal,
                   service.session_count());
      service.expire_all();
      flush_then_finish(std::chrono::steady_clock::now() + kFlushBudget);
    });
  };
  wait_signal();

  service.start();
  links.start();
  if (metrics) {
    metrics->start();
    spdlog::info("metrics on http://{}:{}/metrics", metrics->local_endpoint().address().to_string(),
                 metrics->local_endpoint().port());
  }
  spdlog::info("{} {} running: relay_ip {}, ports {}:{}, datapath {}, latching {}", kProgram,
               mpx::kVersion, relay_ip.value().to_string(), relay.port_range.start,
               relay.port_range.end, datapath->name(), mpx::config::to_string(relay.latching));
  reporter.ready();
  io.run();
  service_ptr = nullptr;
  service.set_links(nullptr);
  // A clean stop ended every session: nothing is left to recover.
  if (!state_file.empty()) {
    if (auto removed = mpx::relay::recovery::remove_state_file(state_file); !removed) {
      spdlog::warn("{}", removed.error().message);
    }
  }
  spdlog::info("{} stopped", kProgram);
  return 0;
}
