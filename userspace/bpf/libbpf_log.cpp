// LibbpfLogCapture: libbpf's print callback redirected into a string (see header).
#include "userspace/bpf/libbpf_log.hpp"

#include <cstdarg>
#include <cstdio>

namespace mpx::datapath::bpf {
namespace {

constexpr std::size_t kLogTailLen = 2000;

std::mutex capture_mutex;
std::string captured;

__attribute__((format(printf, 2, 0))) int capture(libbpf_print_level level, const char* format,
                                                  va_list args) {
  if (level == LIBBPF_DEBUG) {
    return 0;
  }
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
  captured += text;
  return written;
}

}  // namespace

LibbpfLogCapture::LibbpfLogCapture()
    : lock_(capture_mutex), previous_(libbpf_set_print(capture)) {
  captured.clear();
}

LibbpfLogCapture::~LibbpfLogCapture() {
  libbpf_set_print(previous_);
  captured.clear();
}

std::string LibbpfLogCapture::tail() const {
  if (captured.empty()) {
    return "";
  }
  return "\n" + (captured.size() <= kLogTailLen
                     ? captured
                     : "..." + captured.substr(captured.size() - kLogTailLen));
}

}  // namespace mpx::datapath::bpf
