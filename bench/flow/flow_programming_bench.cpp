// mpx_bench_flow: flows installed and removed per second by the relay's kernel datapaths, in
// batches of 1, 64 and 1024 flows, and one call per flow (the relay's hand-off path):
//  - conntrack: ConntrackDatapath::install_batch / remove_batch (libmnl batches, read-back
//    check by one dump) and install() / remove(); baseline: the same NAT entries through the
//    bare ConntrackBatch (create_nat / destroy, no checks, no bookkeeping);
//  - bpf: BpfDatapath::install_batch / remove_batch and install() / remove() (XDP generic on
//    --interface, maps pinned under --pin-dir); baseline: the same two entries per flow through
//    bare bpf_map_update_batch / bpf_map_delete_batch on a hash map of the same shape.
// Run by bench/suites/flow_programming.sh inside the network namespace it creates (the
// conntrack table, nftables table and the attachment stay there). Removes everything it made.
// Each batch size moves its own number of flows (more for larger batches, so every figure rests
// on many calls without the batch-of-1 conntrack case taking minutes), installed then removed,
// `reps` times; the best rate of the repetitions is reported (the least disturbed by other
// processes). Prints one JSON document on stdout. Needs root.
//   mpx_bench_flow --interface IF --pin-dir DIR [--quick]
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <boost/asio/ip/address_v4.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "userspace/bpf/bpf_datapath.hpp"
#include "userspace/bpf/flow_entries.hpp"
#include "userspace/conntrack/conntrack_batch.hpp"
#include "userspace/conntrack/conntrack_datapath.hpp"
#include "userspace/conntrack/namespace_preparer.hpp"

namespace {

using mpx::datapath::Endpoint;
using mpx::datapath::Flow;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kMark = 0x6d706231;  // "mpb1": the bench's conntrack entries

[[noreturn]] void fail(const std::string& why) { throw std::runtime_error(why); }

Endpoint ep(std::uint32_t ip, std::uint16_t port) {
  return Endpoint(boost::asio::ip::address_v4(ip), port);
}

// Flow i: caller 10.1.x.y:5000 <-> relay 203.0.113.1/.2 port 10000+2i <-> callee 10.2.x.y:6000.
std::vector<Flow> make_flows(std::size_t count) {
  std::vector<Flow> flows;
  for (std::size_t i = 0; i < count; ++i) {
    const auto n = static_cast<std::uint32_t>(i);
    const auto port = static_cast<std::uint16_t>(10000 + 2 * i);
    flows.push_back(Flow{ep(0x0a010000u + n, 5000), ep(0xcb007101u, port), ep(0xcb007102u, port),
                         ep(0x0a020000u + n, 6000)});
  }
  return flows;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs op over flows in chunks of `batch`; returns flows per second.
struct Plan {
  std::size_t batch;
  std::size_t flows;
};
std::vector<Plan> plans(bool quick) {
  if (quick) {
    return {{1, 64}, {64, 512}, {1024, 2048}};
  }
  return {{1, 256}, {64, 4096}, {1024, 16384}};
}

template <class Op>
double per_second(const std::vector<Flow>& flows, std::size_t batch, Op op) {
  const auto start = Clock::now();
  for (std::size_t at = 0; at < flows.size(); at += batch) {
    const std::size_t n = std::min(batch, flows.size() - at);
    op(std::span<const Flow>(flows.data() + at, n));
  }
  return static_cast<double>(flows.size()) / seconds_since(start);
}

template <class R>
void check_all(const std::vector<R>& results, const char* what) {
  for (const auto& r : results) {
    if (!r.has_value()) {
      fail(std::string(what) + ": " + r.error().message);
    }
  }
}

template <class R>
void check_one(const R& result, const char* what) {
  if (!result.has_value()) {
    fail(std::string(what) + ": " + result.error().message);
  }
}

nlohmann::json row(const char* datapath, const char* path, std::size_t batch, std::size_t flows,
                   double install, double remove) {
  return {{"datapath", datapath}, {"path", path}, {"batch", batch}, {"flows", flows},
          {"install_per_s", install}, {"remove_per_s", remove}};
}

struct Rates {
  double install = 0;
  double remove = 0;
};

// The best install and remove rates of `reps` rounds over flows (installed, then removed).
template <class Install, class Remove>
Rates best_of(int reps, const std::vector<Flow>& flows, std::size_t batch, Install install,
              Remove remove) {
  Rates best;
  for (int rep = 0; rep < reps; ++rep) {
    best.install = std::max(best.install, per_second(flows, batch, install));
    best.remove = std::max(best.remove, per_second(flows, batch, remove));
  }
  return best;
}

nlohmann::json bench_conntrack(bool quick, int reps) {
  auto preparer = mpx::datapath::NamespacePreparer::prepare({"mpx_bench", std::nullopt});
  if (!preparer.has_value()) {
    fail("preparing the namespace: " + preparer.error().message);
  }
  mpx::datapath::ConntrackDatapath::Options options;
  options.mark = kMark;
  auto datapath = mpx::datapath::ConntrackDatapath::open(options);
  if (!datapath.has_value()) {
    fail("opening conntrack: " + datapath.error().message);
  }
  auto batcher = mpx::datapath::conntrack::ConntrackBatch::open();
  if (!batcher.has_value()) {
    fail("opening ctnetlink: " + batcher.error().message);
  }
  auto& dp = *datapath.value();
  auto& raw = batcher.value();
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [batch, count] : plans(quick)) {
    const std::vector<Flow> flows = make_flows(count);
    const Rates mpx = best_of(
        reps, flows, batch,
        [&](std::span<const Flow> chunk) {
          check_all(dp.install_batch(chunk), "conntrack install");
        },
        [&](std::span<const Flow> chunk) {
          check_all(dp.remove_batch(chunk), "conntrack remove");
        });
    // Baseline: the same entries through bare netlink batches.
    const Rates bare = best_of(
        reps, flows, batch,
        [&](std::span<const Flow> chunk) {
          std::vector<mpx::datapath::conntrack::NatEntrySpec> specs;
          for (const Flow& f : chunk) {
            specs.push_back({f.caller_remote, f.caller_local, f.callee_remote, f.callee_local,
                             kMark, 60, false});
          }
          auto done = raw.create_nat(specs);
          if (!done.has_value()) {
            fail("bare create: " + done.error().message);
          }
          for (const int err : done.value()) {
            if (err != 0) {
              fail("bare create: " + std::string(std::strerror(err)));
            }
          }
        },
        [&](std::span<const Flow> chunk) {
          std::vector<std::pair<Endpoint, Endpoint>> tuples;
          for (const Flow& f : chunk) {
            tuples.emplace_back(f.caller_remote, f.caller_local);
          }
          auto done = raw.destroy(tuples);
          if (!done.has_value()) {
            fail("bare destroy: " + done.error().message);
          }
        });
    if (batch == 1) {
      // What the relay does at each hand-off: install() and remove() of one flow.
      const Rates single = best_of(
          reps, flows, batch,
          [&](std::span<const Flow> chunk) {
            check_one(dp.install(chunk[0]), "conntrack install");
          },
          [&](std::span<const Flow> chunk) {
            check_one(dp.remove(chunk[0]), "conntrack remove");
          });
      rows.push_back(row("conntrack", "mpx install()/remove(), the relay's hand-off path", batch,
                         count, single.install, single.remove));
    }
    rows.push_back(row("conntrack", "mpx ConntrackDatapath batch", batch, count, mpx.install,
                       mpx.remove));
    rows.push_back(row("conntrack", "baseline: bare netlink batch", batch, count, bare.install,
                       bare.remove));
    std::cerr << "conntrack batch " << batch << ": " << mpx.install << "/" << mpx.remove
              << " flows/s, baseline " << bare.install << "/" << bare.remove << "\n";
  }
  return rows;
}

// The two map entries of each flow, as BpfDatapath writes them.
void entries_of(std::span<const Flow> chunk, std::vector<mpx_flow_key>& keys,
                std::vector<mpx_flow_value>& values) {
  keys.clear();
  values.clear();
  for (const Flow& f : chunk) {
    const auto entries = mpx::datapath::bpf::entries_of(f);
    keys.push_back(entries.caller.key);
    keys.push_back(entries.callee.key);
    values.push_back(entries.caller.value);
    values.push_back(entries.callee.value);
  }
}

nlohmann::json bench_bpf(bool quick, int reps, const std::string& interface,
                         const std::filesystem::path& pin_dir) {
  mpx::datapath::BpfDatapath::Options options;
  options.program = mpx::datapath::BpfDatapath::Program::xdp;
  options.xdp_mode = mpx::datapath::BpfDatapath::XdpMode::generic;
  options.interfaces = {interface};
  options.pin_dir = pin_dir;
  options.max_flows = static_cast<std::uint32_t>(2 * plans(quick).back().flows + 16);
  auto opened = mpx::datapath::BpfDatapath::open(options);
  if (!opened.has_value()) {
    fail("opening the BPF datapath: " + opened.error().message);
  }
  auto& dp = *opened.value();

  // The baseline map: the flow map's shape, attached to nothing.
  const int raw_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "mpx_bench_raw", sizeof(mpx_flow_key),
                                    sizeof(mpx_flow_value), options.max_flows, nullptr);
  if (raw_fd < 0) {
    fail(std::string("bpf_map_create: ") + std::strerror(-raw_fd));
  }
  nlohmann::json rows = nlohmann::json::array();
  std::vector<mpx_flow_key> keys;
  std::vector<mpx_flow_value> values;
  for (const auto& [batch, count] : plans(quick)) {
    const std::vector<Flow> flows = make_flows(count);
    const Rates mpx = best_of(
        reps, flows, batch,
        [&](std::span<const Flow> chunk) { check_all(dp.install_batch(chunk), "bpf install"); },
        [&](std::span<const Flow> chunk) { check_all(dp.remove_batch(chunk), "bpf remove"); });
    const Rates bare = best_of(
        reps, flows, batch,
        [&](std::span<const Flow> chunk) {
          entries_of(chunk, keys, values);
          auto n = static_cast<std::uint32_t>(keys.size());
          if (const int err = bpf_map_update_batch(raw_fd, keys.data(), values.data(), &n, nullptr);
              err != 0) {
            fail(std::string("bpf_map_update_batch: ") + std::strerror(-err));
          }
        },
        [&](std::span<const Flow> chunk) {
          entries_of(chunk, keys, values);
          auto n = static_cast<std::uint32_t>(keys.size());
          if (const int err = bpf_map_delete_batch(raw_fd, keys.data(), &n, nullptr); err != 0) {
            fail(std::string("bpf_map_delete_batch: ") + std::strerror(-err));
          }
        });
    if (batch == 1) {
      const Rates single = best_of(
          reps, flows, batch,
          [&](std::span<const Flow> chunk) { check_one(dp.install(chunk[0]), "bpf install"); },
          [&](std::span<const Flow> chunk) { check_one(dp.remove(chunk[0]), "bpf remove"); });
      rows.push_back(row("bpf", "mpx install()/remove(), the relay's hand-off path", batch, count,
                         single.install, single.remove));
    }
    rows.push_back(row("bpf", "mpx BpfDatapath batch", batch, count, mpx.install, mpx.remove));
    rows.push_back(row("bpf", "baseline: bare map batch", batch, count, bare.install, bare.remove));
    std::cerr << "bpf batch " << batch << ": " << mpx.install << "/" << mpx.remove
              << " flows/s, baseline " << bare.install << "/" << bare.remove << "\n";
  }
  close(raw_fd);
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  std::string interface;
  std::filesystem::path pin_dir;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--interface" && i + 1 < argc) {
      interface = argv[++i];
    } else if (arg == "--pin-dir" && i + 1 < argc) {
      pin_dir = argv[++i];
    }
  }
  if (interface.empty() || pin_dir.empty()) {
    std::cerr << "usage: mpx_bench_flow --interface IF --pin-dir DIR [--quick]\n";
    return 2;
  }
  const int reps = quick ? 1 : 3;
  try {
    nlohmann::json rows = nlohmann::json::array();
    for (auto& r : bench_conntrack(quick, reps)) {
      rows.push_back(std::move(r));
    }
    for (auto& r : bench_bpf(quick, reps, interface, pin_dir)) {
      rows.push_back(std::move(r));
    }
    std::cout << nlohmann::json{{"repetitions", reps}, {"rows", rows}}.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "mpx_bench_flow: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
