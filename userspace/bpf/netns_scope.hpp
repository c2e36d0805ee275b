// NetnsHome: the network namespace a BpfDatapath was opened in. libbpf's XDP and TC attach calls
// talk rtnetlink on a socket opened at each call, in the CALLING THREAD's namespace, and address
// interfaces by index; a detach from another thread (a destructor run elsewhere) would act on
// another namespace's interfaces. Visit switches the thread into the home namespace for a scope
// (only when it is elsewhere) and back.
#pragma once

#include "common/result.hpp"

namespace mpx::datapath::bpf {

class NetnsHome {
 public:
  // The calling thread's namespace.
  static Result<NetnsHome> current();
  NetnsHome(NetnsHome&& other) noexcept;
  NetnsHome& operator=(NetnsHome&&) = delete;
  NetnsHome(const NetnsHome&) = delete;
  NetnsHome& operator=(const NetnsHome&) = delete;
  ~NetnsHome();

  class Visit {
   public:
    ~Visit();
    Visit(const Visit&) = delete;
    Visit& operator=(const Visit&) = delete;
    // False when the switch failed (then the thread stays where it was).
    bool ok() const { return ok_; }

   private:
    friend class NetnsHome;
    explicit Visit(int home_fd);
    int return_fd_ = -1;  // where to go back to; -1 when no switch was needed
    bool ok_ = true;
  };
  // Puts the calling thread into the home namespace until the Visit ends.
  [[nodiscard]] Visit visit() const { return Visit(fd_); }

 private:
  explicit NetnsHome(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace mpx::datapath::bpf
