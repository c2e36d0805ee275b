// libbpf-backed implementation of LoadedBpfObject (see loaded_bpf_object.hpp).
#include "tests/bpf/loaded_bpf_object.hpp"

#include <bpf/bpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>

namespace mpx::test {
namespace {

// Room for a program that grows the frame (bpf_xdp_adjust_head/tail, encapsulation).
constexpr std::size_t kOutputSlack = 4096;
// Enough of libbpf's log to show the verifier's verdict without drowning the test output.
constexpr std::size_t kLogTailLen = 6000;

std::string errno_text(int negative_errno) {
  return fmt::format("{} (errno {})", std::strerror(-negative_errno), -negative_errno);
}

// libbpf reports through one process-wide print callback: collect it while a load runs.
std::mutex log_mutex;
std::string captured_log;

// The format attribute tells the compiler the format arrives from libbpf's checked call sites.
__attribute__((format(printf, 2, 0))) int capture_libbpf_log(libbpf_print_level level,
                                                             const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) {
    return 0;  // section-by-section chatter; the verifier log comes at LIBBPF_WARN
  }
  // libbpf hands over the whole verifier log in one call: size it first, then format it.
  va_list sizing;
  va_copy(sizing, args);
  const int needed = std::vsnprintf(nullptr, 0, format, sizing);
  va_end(sizing);
  if (needed <= 0) {
    return needed;
  }
  std::string text(static_cast<std::size_t>(needed) + 1, '\0');
  const int written = std::vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<std::size_t>(needed));
  captured_log += text;
  return written;
}

std::string tail(const std::string& text) {
  return text.size() <= kLogTailLen ? text : "..." + text.substr(text.size() - kLogTailLen);
}

}  // namespace

mpx::Result<LoadedBpfObject> LoadedBpfObject::load(const std::string& object_path) {
  const std::lock_guard lock(log_mutex);
  captured_log.clear();
  const libbpf_print_fn_t previous = libbpf_set_print(capture_libbpf_log);
  bpf_object* object = bpf_object__open_file(object_path.c_str(), nullptr);
  if (object == nullptr) {
    const int err = -errno;
    libbpf_set_print(previous);
    return mpx::Error{fmt::format("cannot open BPF object {}: {}\n{}", object_path, errno_text(err),
                                  tail(captured_log))};
  }
  const int err = bpf_object__load(object);
  libbpf_set_print(previous);
  if (err != 0) {
    bpf_object__close(object);
    return mpx::Error{fmt::format("cannot load BPF object {}: {}\n{}", object_path, errno_text(err),
                                  tail(captured_log))};
  }
  return LoadedBpfObject(object);
}

LoadedBpfObject::LoadedBpfObject(LoadedBpfObject&& other) noexcept
    : object_(std::exchange(other.object_, nullptr)) {}

LoadedBpfObject& LoadedBpfObject::operator=(LoadedBpfObject&& other) noexcept {
  if (this != &other) {
    bpf_object__close(object_);
    object_ = std::exchange(other.object_, nullptr);
  }
  return *this;
}

LoadedBpfObject::~LoadedBpfObject() { bpf_object__close(object_); }

int LoadedBpfObject::program_fd(const std::string& program) const {
  const bpf_program* prog = bpf_object__find_program_by_name(object_, program.c_str());
  return prog == nullptr ? -1 : bpf_program__fd(prog);
}

int LoadedBpfObject::map_fd(const std::string& map) const {
  const bpf_map* found = bpf_object__find_map_by_name(object_, map.c_str());
  return found == nullptr ? -1 : bpf_map__fd(found);
}

mpx::Result<const bpf_map*> LoadedBpfObject::find_map(const std::string& map) const {
  const bpf_map* found = bpf_object__find_map_by_name(object_, map.c_str());
  if (found == nullptr) {
    return mpx::Error{fmt::format("no map named {} in the BPF object", map)};
  }
  return found;
}

mpx::Result<ProgRunResult> LoadedBpfObject::run(const std::string& program,
                                                std::span<const std::uint8_t> input,
                                                ProgRunOptions options) const {
  const int fd = program_fd(program);
  if (fd < 0) {
    return mpx::Error{fmt::format("no loaded program named {} in the BPF object", program)};
  }
  if (options.repeat > static_cast<std::uint32_t>(std::numeric_limits<int>::max())) {
    return mpx::Error{
        fmt::format("repeat {} is beyond what BPF_PROG_TEST_RUN takes", options.repeat)};
  }
  std::vector<std::uint8_t> output(input.size() + kOutputSlack);
  // Filled field by field: libbpf's LIBBPF_OPTS macro is not valid C++.
  bpf_test_run_opts opts{};
  opts.sz = sizeof opts;
  opts.data_in = input.data();
  opts.data_size_in = static_cast<std::uint32_t>(input.size());
  opts.data_out = output.data();
  opts.data_size_out = static_cast<std::uint32_t>(output.size());
  opts.repeat = static_cast<int>(options.repeat);
  // The context is only passed when an interface is asked for, so the default run stays the
  // kernel's plain one.
  xdp_md xdp_context{};
  __sk_buff skb_context{};
  if (options.ifindex != 0) {
    const bpf_program* prog = bpf_object__find_program_by_name(object_, program.c_str());
    if (bpf_program__type(prog) == BPF_PROG_TYPE_XDP) {
      xdp_context.data_end = static_cast<std::uint32_t>(input.size());
      xdp_context.ingress_ifindex = options.ifindex;
      opts.ctx_in = &xdp_context;
      opts.ctx_size_in = sizeof xdp_context;
    } else {
      skb_context.ifindex = options.ifindex;
      skb_context.ingress_ifindex = options.ifindex;
      opts.ctx_in = &skb_context;
      opts.ctx_size_in = sizeof skb_context;
    }
  }
  const int err = bpf_prog_test_run_opts(fd, &opts);
  if (err != 0) {
    return mpx::Error{fmt::format("BPF_PROG_TEST_RUN of {} on {} bytes failed: {}", program,
                                  input.size(), errno_text(err))};
  }
  output.resize(opts.data_size_out);
  return ProgRunResult{opts.retval, std::move(output), opts.duration};
}

mpx::Result<std::vector<std::uint64_t>> LoadedBpfObject::percpu_u64_sums(
    const std::string& map) const {
  auto found = find_map(map);
  if (!found) {
    return found.error();
  }
  const bpf_map* m = found.value();
  if (bpf_map__type(m) != BPF_MAP_TYPE_PERCPU_ARRAY || bpf_map__value_size(m) != 8) {
    return mpx::Error{fmt::format("map {} is not a per-CPU array of 8-byte values", map)};
  }
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    return mpx::Error{fmt::format("cannot count possible CPUs: {}", errno_text(cpus))};
  }
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus));
  std::vector<std::uint64_t> sums(bpf_map__max_entries(m));
  for (std::uint32_t index = 0; index < sums.size(); ++index) {
    const int err = bpf_map__lookup_elem(m, &index, sizeof index, per_cpu.data(),
                                         per_cpu.size() * sizeof(std::uint64_t), 0);
    if (err != 0) {
      return mpx::Error{fmt::format("reading {}[{}]: {}", map, index, errno_text(err))};
    }
    for (const std::uint64_t value : per_cpu) {
      sums[index] += value;
    }
  }
  return sums;
}

mpx::Result<void> LoadedBpfObject::update_elem(const std::string& map,
                                               std::span<const std::byte> key,
                                               std::span<const std::byte> value,
                                               std::uint64_t flags) const {
  auto found = find_map(map);
  if (!found) {
    return found.error();
  }
  const int err = bpf_map__update_elem(found.value(), key.data(), key.size(), value.data(),
                                       value.size(), flags);
  if (err != 0) {
    return mpx::Error{fmt::format("updating map {}: {}", map, errno_text(err))};
  }
  return mpx::outcome::success();
}

mpx::Result<std::vector<std::byte>> LoadedBpfObject::lookup_elem(
    const std::string& map, std::span<const std::byte> key) const {
  auto found = find_map(map);
  if (!found) {
    return found.error();
  }
  std::vector<std::byte> value(bpf_map__value_size(found.value()));
  const int err =
      bpf_map__lookup_elem(found.value(), key.data(), key.size(), value.data(), value.size(), 0);
  if (err != 0) {
    return mpx::Error{fmt::format("looking up in map {}: {}", map, errno_text(err))};
  }
  return value;
}

mpx::Result<void> LoadedBpfObject::delete_elem(const std::string& map,
                                               std::span<const std::byte> key) const {
  auto found = find_map(map);
  if (!found) {
    return found.error();
  }
  const int err = bpf_map__delete_elem(found.value(), key.data(), key.size(), 0);
  if (err != 0) {
    return mpx::Error{fmt::format("deleting from map {}: {}", map, errno_text(err))};
  }
  return mpx::outcome::success();
}

}  // namespace mpx::test
