// StateKeeper: keeps the relay's state file (state_file.hpp) in step with its sessions without
// writing it on every change: changed() schedules one write `delay` later, and the changes made
// meanwhile share it; the document is captured at write time. A failed write is logged once per
// distinct error (a full disk must not flood the log), and the next change tries again.
// Single-threaded: runs on the relay's executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "relay/recovery/state_file.hpp"

namespace mpx::relay::recovery {

class StateKeeper {
 public:
  using Capture = std::function<RelayState()>;

  // An empty `path` keeps nothing (a datapath whose flows die with the process has nothing for
  // a restart to take over): changed() and write_now() do nothing.
  StateKeeper(boost::asio::any_io_executor executor, std::filesystem::path path,
              std::chrono::milliseconds delay, Capture capture);
  ~StateKeeper();
  StateKeeper(const StateKeeper&) = delete;
  StateKeeper& operator=(const StateKeeper&) = delete;

  bool enabled() const { return !path_.empty(); }
  const std::filesystem::path& path() const { return path_; }
  // Something a restart would need changed: write soon.
  void changed();
  // Writes now (and cancels a pending write).
  void write_now();
  // Cancels a pending write.
  void stop();

 private:
  std::filesystem::path path_;
  std::chrono::milliseconds delay_;
  Capture capture_;
  boost::asio::steady_timer timer_;
  bool pending_ = false;
  std::string last_error_;
  std::shared_ptr<bool> alive_;
};

}  // namespace mpx::relay::recovery
