// LoadedBpfObject: a BPF object file opened and loaded with libbpf for BPF_PROG_TEST_RUN fixtures
// (Katran / Cilium style: input bytes in, verdict + output bytes + counters out). Owns the
// bpf_object; programs and maps are addressed by their C names. Loading needs root
// (gate the test with MPX_REQUIRE(mpx::test::missing_root())); nothing is attached or pinned.
#pragma once

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace mpx::test {

struct ProgRunOptions {
  // Runs of the program over the same buffer. The kernel mutates that buffer in place on every
  // run, so only repeat = 1 gives output bytes worth comparing; use more for timing.
  std::uint32_t repeat = 1;
  // The interface the frame arrives on, in the calling thread's network namespace (0: none, the
  // kernel uses loopback). XDP: xdp_md.ingress_ifindex; TC: __sk_buff ifindex and
  // ingress_ifindex. bpf_fib_lookup resolves routes from there.
  std::uint32_t ifindex = 0;
};

struct ProgRunResult {
  std::uint32_t verdict = 0;         // the program's return value (XDP_PASS, TC_ACT_OK, ...)
  std::vector<std::uint8_t> output;  // the packet after the (last) run
  std::uint32_t duration_ns = 0;     // average per run, as measured by the kernel
};

class LoadedBpfObject {
 public:
  // Opens and loads every program and map of the object file. On failure the error carries the
  // tail of libbpf's log (the verifier's complaint).
  static mpx::Result<LoadedBpfObject> load(const std::string& object_path);

  LoadedBpfObject(LoadedBpfObject&& other) noexcept;
  LoadedBpfObject& operator=(LoadedBpfObject&& other) noexcept;
  LoadedBpfObject(const LoadedBpfObject&) = delete;
  LoadedBpfObject& operator=(const LoadedBpfObject&) = delete;
  ~LoadedBpfObject();

  // BPF_PROG_TEST_RUN of the named program over input (the frame from its Ethernet header on).
  mpx::Result<ProgRunResult> run(const std::string& program, std::span<const std::uint8_t> input,
                                 ProgRunOptions options = {}) const;

  // Every entry of a per-CPU array map of __u64, each summed over all possible CPUs.
  mpx::Result<std::vector<std::uint64_t>> percpu_u64_sums(const std::string& map) const;

  // bpf_map_update_elem / bpf_map_lookup_elem / bpf_map_delete_elem on the named map. Sizes must
  // match the map's key and value sizes exactly.
  mpx::Result<void> update_elem(const std::string& map, std::span<const std::byte> key,
                                std::span<const std::byte> value,
                                std::uint64_t flags = BPF_ANY) const;
  mpx::Result<std::vector<std::byte>> lookup_elem(const std::string& map,
                                                  std::span<const std::byte> key) const;
  mpx::Result<void> delete_elem(const std::string& map, std::span<const std::byte> key) const;

  // Typed forms for the structs of bpf/mpx_shared.h.
  template <class Key, class Value>
  mpx::Result<void> update(const std::string& map, const Key& key, const Value& value,
                           std::uint64_t flags = BPF_ANY) const {
    return update_elem(map, std::as_bytes(std::span(&key, 1)), std::as_bytes(std::span(&value, 1)),
                       flags);
  }
  template <class Key>
  mpx::Result<void> erase(const std::string& map, const Key& key) const {
    return delete_elem(map, std::as_bytes(std::span(&key, 1)));
  }

  // File descriptors, for what the wrappers above do not cover (-1 when the name is unknown).
  int program_fd(const std::string& program) const;
  int map_fd(const std::string& map) const;

 private:
  explicit LoadedBpfObject(bpf_object* object) : object_(object) {}
  mpx::Result<const bpf_map*> find_map(const std::string& map) const;

  bpf_object* object_ = nullptr;
};

}  // namespace mpx::test
