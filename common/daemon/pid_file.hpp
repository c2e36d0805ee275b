// PidFile: writes the daemon's PID, holds an exclusive lock on the file for the process lifetime
// (so a second instance is refused with a clear message) and removes the file on destruction.
#pragma once

#include <filesystem>

#include "common/result.hpp"

namespace mpx::daemon {

class PidFile {
 public:
  static Result<PidFile> create(const std::filesystem::path& path);
  PidFile(PidFile&& other) noexcept;
  PidFile& operator=(PidFile&&) = delete;
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile();

  const std::filesystem::path& path() const { return path_; }

 private:
  PidFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace mpx::daemon
