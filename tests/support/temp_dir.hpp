// TempDir: a private directory under $TMPDIR (or /tmp) removed with everything in it on scope exit.
#pragma once

#include <filesystem>
#include <string>

namespace mpx::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "mpx-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/name and returns the full path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace mpx::test
