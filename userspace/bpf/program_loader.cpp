// LoadedProgram: open the embedded object from memory, size and reuse/pin its maps, load it
// (see program_loader.hpp). libbpf's warnings during open and load are captured into the error,
// so a verifier rejection reaches the relay's log as one message (LibbpfLogCapture).
#include "userspace/bpf/program_loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "bpf/mpx_shared.h"
#include "userspace/bpf/libbpf_log.hpp"

namespace mpx::datapath::bpf {
namespace {

std::string errno_text(int negative_errno) {
  return std::string(std::strerror(-negative_errno)) + " (errno " +
         std::to_string(-negative_errno) + ")";
}

struct MapShape {
  __u32 type;
  __u32 key_size;
  __u32 value_size;
  __u32 max_entries;
};

std::string shape_text(const MapShape& shape) {
  return "type " + std::to_string(shape.type) + ", key " + std::to_string(shape.key_size) +
         " B, value " + std::to_string(shape.value_size) + " B, " +
         std::to_string(shape.max_entries) + " entries";
}

// A pinned map at path: its fd (caller closes) when it has `want`'s shape, -1 when nothing is
// pinned there, an error otherwise (mismatch describes the difference).
Result<int> open_pinned(const std::filesystem::path& path, const MapShape& want,
                        std::string& mismatch) {
  const int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    if (fd == -ENOENT) {
      return -1;
    }
    return Error{"cannot open pinned map " + path.string() + ": " + errno_text(fd)};
  }
  bpf_map_info info{};
  __u32 length = sizeof info;
  if (const int err = bpf_obj_get_info_by_fd(fd, &info, &length); err != 0) {
    close(fd);
    return Error{"pinned object " + path.string() + " is not a map: " + errno_text(err)};
  }
  const MapShape have{info.type, info.key_size, info.value_size, info.max_entries};
  if (have.type != want.type || have.key_size != want.key_size ||
      have.value_size != want.value_size || have.max_entries != want.max_entries) {
    close(fd);
    mismatch = "pinned map " + path.string() + " has " + shape_text(have) + ", expected " +
               shape_text(want);
    return -1;
  }
  return fd;
}

Result<void> ensure_bpffs_dir(const std::filesystem::path& pin_dir) {
  std::error_code ec;
  std::filesystem::create_directories(pin_dir, ec);
  if (ec) {
    return Error{"cannot create pin directory " + pin_dir.string() + ": " + ec.message()};
  }
  struct statfs fs{};
  if (statfs(pin_dir.c_str(), &fs) != 0) {
    return Error{"cannot stat pin directory " + pin_dir.string() + ": " + std::strerror(errno)};
  }
  if (static_cast<unsigned long>(fs.f_type) != BPF_FS_MAGIC) {
    return Error{"pin directory " + pin_dir.string() +
                 " is not on a bpffs (mount -t bpf bpf DIR, e.g. /sys/fs/bpf)"};
  }
  return outcome::success();
}

// Reuses the map pinned at pin_dir/name when it has the map's shape. Returns whether it did.
Result<bool> reuse_pinned(bpf_map* map, const std::filesystem::path& pin_dir, bool replaceable) {
  const std::filesystem::path path = pin_dir / bpf_map__name(map);
  const MapShape want{static_cast<__u32>(bpf_map__type(map)), bpf_map__key_size(map),
                      bpf_map__value_size(map), bpf_map__max_entries(map)};
  std::string mismatch;
  auto pinned = open_pinned(path, want, mismatch);
  if (!pinned) {
    return pinned.error();
  }
  if (!mismatch.empty()) {
    if (!replaceable) {
      return Error{mismatch + ": it may carry a running relay's flows; remove it (rm " +
                   path.string() + ") or start with the same max_flows"};
    }
    if (unlink(path.c_str()) != 0) {
      return Error{mismatch + ", and it cannot be removed: " + std::strerror(errno)};
    }
    return false;
  }
  if (pinned.value() < 0) {
    return false;
  }
  const int err = bpf_map__reuse_fd(map, pinned.value());
  close(pinned.value());  // reuse_fd keeps its own duplicate
  if (err != 0) {
    return Error{"cannot reuse pinned map " + path.string() + ": " + errno_text(err)};
  }
  return true;
}

void close_object(bpf_object* object) { bpf_object__close(object); }

}  // namespace

Result<LoadedProgram> LoadedProgram::load(std::span<const unsigned char> object,
                                          const std::string& program, std::uint32_t max_flows,
                                          const std::filesystem::path& pin_dir) {
  if (!pin_dir.empty()) {
    if (auto made = ensure_bpffs_dir(pin_dir); !made) {
      return made.error();
    }
  }
  const LibbpfLogCapture log;
  bpf_object_open_opts opts{};
  opts.sz = sizeof opts;
  opts.object_name = program.c_str();
  bpf_object* obj = bpf_object__open_mem(object.data(), object.size(), &opts);
  if (obj == nullptr) {
    return Error{"cannot open the embedded BPF object " + program + ": " + errno_text(-errno) +
                 log.tail()};
  }
  std::unique_ptr<bpf_object, decltype(&close_object)> owned(obj, &close_object);
  bpf_map* flows = bpf_object__find_map_by_name(obj, MPX_MAP_FLOWS);
  bpf_map* stats = bpf_object__find_map_by_name(obj, MPX_MAP_STATS);
  bpf_program* prog = bpf_object__find_program_by_name(obj, program.c_str());
  if (flows == nullptr || stats == nullptr || prog == nullptr) {
    return Error{"the embedded BPF object " + program + " lacks " MPX_MAP_FLOWS ", " MPX_MAP_STATS
                 " or its program"};
  }
  if (const int err = bpf_map__set_max_entries(flows, max_flows); err != 0) {
    return Error{"cannot size " MPX_MAP_FLOWS " to " + std::to_string(max_flows) + ": " +
                 errno_text(err)};
  }
  bool reused_flows = false;
  bool reused_stats = false;
  if (!pin_dir.empty()) {
    auto reused = reuse_pinned(flows, pin_dir, false);
    if (!reused) {
      return reused.error();
    }
    reused_flows = reused.value();
    auto reused_counters = reuse_pinned(stats, pin_dir, true);
    if (!reused_counters) {
      return reused_counters.error();
    }
    reused_stats = reused_counters.value();
  }
  if (const int err = bpf_object__load(obj); err != 0) {
    return Error{"cannot load the BPF program " + program + ": " + errno_text(err) + log.tail()};
  }
  if (!pin_dir.empty()) {
    for (auto [map, reused] : {std::pair{flows, reused_flows}, std::pair{stats, reused_stats}}) {
      if (reused) {
        continue;
      }
      const std::filesystem::path path = pin_dir / bpf_map__name(map);
      if (const int err = bpf_map__pin(map, path.c_str()); err != 0) {
        return Error{"cannot pin " + std::string(bpf_map__name(map)) + " at " + path.string() +
                     ": " + errno_text(err)};
      }
    }
  }
  return LoadedProgram(owned.release(), bpf_program__fd(prog), bpf_map__fd(flows),
                       bpf_map__fd(stats), reused_flows, pin_dir);
}

LoadedProgram::LoadedProgram(bpf_object* object, int program_fd, int flows_fd, int stats_fd,
                             bool reused_flows, std::filesystem::path pin_dir)
    : object_(object),
      program_fd_(program_fd),
      flows_fd_(flows_fd),
      stats_fd_(stats_fd),
      reused_flows_(reused_flows),
      pin_dir_(std::move(pin_dir)) {}

LoadedProgram::LoadedProgram(LoadedProgram&& other) noexcept
    : object_(std::exchange(other.object_, nullptr)),
      program_fd_(other.program_fd_),
      flows_fd_(other.flows_fd_),
      stats_fd_(other.stats_fd_),
      reused_flows_(other.reused_flows_),
      pin_dir_(std::move(other.pin_dir_)) {}

LoadedProgram::~LoadedProgram() { bpf_object__close(object_); }

void LoadedProgram::unpin() const {
  if (pin_dir_.empty()) {
    return;
  }
  for (const char* name : {MPX_MAP_FLOWS, MPX_MAP_STATS}) {
    (void)unlink((pin_dir_ / name).c_str());
  }
  (void)rmdir(pin_dir_.c_str());  // only succeeds when nothing else is in it
}

}  // namespace mpx::datapath::bpf
