// LoadedProgram: one embedded mpx BPF object (XDP or TC) opened and loaded with libbpf, its flow
// map sized to max_flows, and both maps pinned under a bpffs directory when one is given.
//
// Pinning and reuse (a relay restart): when pin_dir already holds "mpx_flows" (and
// "mpx_stats"), the new object REUSES those maps (bpf_map__reuse_fd before load) instead of
// creating its own, so the entries a previous instance installed, and the programs it left
// attached that still use them, keep working while this instance takes over. A pinned flow map
// of another shape (key or value size, type, or max_entries != max_flows) is an error naming
// the path: it may carry live calls, so it is never replaced silently. A pinned verdict map of
// another shape (an older program's) is replaced: its counters are not worth refusing to start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "common/result.hpp"

struct bpf_object;

namespace mpx::datapath::bpf {

class LoadedProgram {
 public:
  // object: the ELF bytes; program: the SEC function's name (mpx_xdp / mpx_tc).
  static Result<LoadedProgram> load(std::span<const unsigned char> object,
                                    const std::string& program, std::uint32_t max_flows,
                                    const std::filesystem::path& pin_dir);

  LoadedProgram(LoadedProgram&& other) noexcept;
  LoadedProgram& operator=(LoadedProgram&&) = delete;
  LoadedProgram(const LoadedProgram&) = delete;
  LoadedProgram& operator=(const LoadedProgram&) = delete;
  ~LoadedProgram();  // closes the object: the maps live on where pinned or used by an attachment

  int program_fd() const { return program_fd_; }
  int flows_fd() const { return flows_fd_; }
  int stats_fd() const { return stats_fd_; }
  // True when the flow map came from pin_dir (its entries are a previous instance's).
  bool reused_flows() const { return reused_flows_; }

  // Removes the pins this object made or reused (best effort), and pin_dir when it is empty.
  void unpin() const;

 private:
  LoadedProgram(bpf_object* object, int program_fd, int flows_fd, int stats_fd,
                bool reused_flows, std::filesystem::path pin_dir);

  bpf_object* object_ = nullptr;
  int program_fd_ = -1;
  int flows_fd_ = -1;
  int stats_fd_ = -1;
  bool reused_flows_ = false;
  std::filesystem::path pin_dir_;
};

}  // namespace mpx::datapath::bpf
