// FreshNetns / ForwardingNetns (see forwarding_netns.hpp): unshare(CLONE_NEWNET) for the calling
// thread, `ip` commands for the topology, setns back at the end.
#include "tests/bpf/forwarding_netns.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "tests/support/subprocess.hpp"

namespace mpx::test {
namespace {

// One script so a failure names the step; every command runs in the thread's new namespace.
constexpr const char* kTopology = R"(set -e
sysctl -qw net.ipv4.ip_forward=1
ip link set lo up
ip addr add 203.0.113.1/32 dev lo
ip link add in0 address 02:00:0a:01:00:01 type veth peer name in0p
ip link add out0 address 02:00:0a:02:00:01 mtu 1000 type veth peer name out0p mtu 1000
for dev in in0 in0p out0 out0p; do ip link set "$dev" up; done
ip addr add 10.1.0.1/24 dev in0
ip addr add 10.2.0.1/24 dev out0
ip neigh replace 10.1.0.10 lladdr 02:00:0a:01:00:0a dev in0 nud permanent
ip neigh replace 10.2.0.20 lladdr 02:00:0a:02:00:14 dev out0 nud permanent
ip route add unreachable 198.18.0.0/15
)";

std::uint32_t ifindex_of(const char* name) {
  const unsigned index = if_nametoindex(name);
  if (index == 0) {
    throw std::runtime_error(std::string("no interface ") + name + ": " + std::strerror(errno));
  }
  return index;
}

}  // namespace

FreshNetns::FreshNetns() : original_(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  if (original_ < 0) {
    throw std::runtime_error(std::string("cannot open this thread's network namespace: ") +
                             std::strerror(errno));
  }
  if (unshare(CLONE_NEWNET) != 0) {
    const int err = errno;
    close(original_);
    throw std::runtime_error(std::string("unshare(CLONE_NEWNET): ") + std::strerror(err));
  }
}

FreshNetns::~FreshNetns() {
  // A test thread left in the scratch namespace would run everything after it there.
  if (setns(original_, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "FreshNetns: cannot return to the original namespace: %s\n",
                 std::strerror(errno));
    std::terminate();
  }
  close(original_);
}

ForwardingNetns::ForwardingNetns() {
  const RunResult built = run({"sh", "-c", kTopology}, std::chrono::seconds(30));
  if (built.exit_code != 0) {
    throw std::runtime_error("building the forwarding namespace failed (exit " +
                             std::to_string(built.exit_code) + "): " + built.err + built.out);
  }
  in0_ = ifindex_of("in0");
  out0_ = ifindex_of("out0");
}

}  // namespace mpx::test
