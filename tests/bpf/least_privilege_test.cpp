// The mpx BPF objects must load with CAP_BPF + CAP_NET_ADMIN alone: without CAP_PERFMON the
// verifier refuses packet-pointer subtraction and variable-offset packet pointers (Spectre v1
// hardening), and the relay should not need CAP_SYS_ADMIN either. Loading happens in a forked
// child that drops both capabilities, so the test process keeps its own. Needs root.
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "tests/bpf/loaded_bpf_object.hpp"
#include "tests/bpf/mpx_programs.hpp"
#include "tests/support/privileged.hpp"

namespace mpx::test {
namespace {

// Removes capabilities from this process's effective and permitted sets (raw syscalls: the one
// use does not justify a libcap dependency). Returns "" or what failed.
std::string drop_capabilities(std::initializer_list<int> capabilities) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  if (syscall(SYS_capget, &header, data.data()) != 0) {
    return std::string("capget: ") + std::strerror(errno);
  }
  for (const int cap : capabilities) {
    const auto word = static_cast<std::size_t>(cap / 32);
    const std::uint32_t bit = 1u << (cap % 32);
    data.at(word).effective &= ~bit;
    data.at(word).permitted &= ~bit;
  }
  if (syscall(SYS_capset, &header, data.data()) != 0) {
    return std::string("capset: ") + std::strerror(errno);
  }
  return {};
}

// Loads object_path in a child without CAP_PERFMON and CAP_SYS_ADMIN; "" on success, otherwise
// the child's error (libbpf's verifier log tail included).
std::string load_in_unprivileged_child(const std::string& object_path) {
  std::array<int, 2> pipe_fds{};
  if (pipe(pipe_fds.data()) != 0) {
    return std::string("pipe: ") + std::strerror(errno);
  }
  const pid_t child = fork();
  if (child < 0) {
    return std::string("fork: ") + std::strerror(errno);
  }
  if (child == 0) {
    close(pipe_fds[0]);
    std::string problem = drop_capabilities({CAP_PERFMON, CAP_SYS_ADMIN});
    if (problem.empty()) {
      auto loaded = LoadedBpfObject::load(object_path);
      if (!loaded) {
        problem = loaded.error().message;
      }
    }
    if (!problem.empty()) {
      (void)!write(pipe_fds[1], problem.data(), problem.size());
    }
    _exit(problem.empty() ? 0 : 1);
  }
  close(pipe_fds[1]);
  std::string report;
  std::array<char, 4096> buffer{};
  ssize_t got = 0;
  while ((got = read(pipe_fds[0], buffer.data(), buffer.size())) > 0) {
    report.append(buffer.data(), static_cast<std::size_t>(got));
  }
  close(pipe_fds[0]);
  int status = 0;
  if (waitpid(child, &status, 0) != child) {
    return std::string("waitpid: ") + std::strerror(errno);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return report.empty() ? "child failed without a message" : report;
  }
  return {};
}

class BpfLeastPrivilege : public ::testing::TestWithParam<Hook> {
 protected:
  void SetUp() override { MPX_REQUIRE(missing_root()); }
};

TEST_P(BpfLeastPrivilege, LoadsWithoutCapPerfmonAndCapSysAdmin) {
  EXPECT_EQ(load_in_unprivileged_child(hook_program(GetParam()).object_path), "");
}

INSTANTIATE_TEST_SUITE_P(Hooks, BpfLeastPrivilege, ::testing::Values(Hook::xdp, Hook::tc),
                         [](const ::testing::TestParamInfo<Hook>& param_info) {
                           return std::string(hook_name(param_info.param));
                         });

}  // namespace
}  // namespace mpx::test
