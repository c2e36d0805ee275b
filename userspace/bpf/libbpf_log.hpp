// LibbpfLogCapture: collects libbpf's warnings (verifier logs, the kernel's netlink extack
// messages) while it is in scope instead of letting libbpf print them to stderr, so they reach
// the relay's log inside the one error that explains them, and expected refusals (EEXIST on an
// existing clsact qdisc) print nothing. libbpf has one process-wide print callback: captures
// serialise on a mutex and restore the previous callback.
#pragma once

#include <bpf/libbpf.h>

#include <mutex>
#include <string>

namespace mpx::datapath::bpf {

class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

  // "" when nothing was said, else a newline and the (tail of the) text.
  std::string tail() const;

 private:
  std::unique_lock<std::mutex> lock_;
  libbpf_print_fn_t previous_;
};

}  // namespace mpx::datapath::bpf
