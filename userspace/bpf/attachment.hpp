// Attachments: the loaded program attached to each configured interface, one program per
// interface (libxdp's multi-program dispatcher does not load on our kernels, spec
// kernel-datapaths.md), and detached again.
//
// XDP: bpf_xdp_attach in driver (native) or skb (generic) mode. An interface that already has an
// XDP program is refused with an error naming it, unless that program is named like ours
// (mpx_xdp): then it is a crashed or restarted relay's attachment and it is REPLACED atomically
// (XDP_FLAGS_REPLACE with the old program), so forwarding does not stop; if it sits in the other
// mode it is detached first (a short gap: native and generic cannot be active together).
// Otherwise XDP_FLAGS_UPDATE_IF_NOEXIST makes a race with another loader an error too.
//
// TC: a clsact qdisc (created when missing) and one bpf filter at ingress with mpx's handle and
// priority (kTcHandle / kTcPriority), direct-action. A filter already at that handle and
// priority is replaced when its program is named mpx_tc, refused otherwise. Filters at other
// priorities are left alone (they run before or after ours, as their priority says).
//
// These attachments are not bpf_links: they survive the process. That is what keeps media
// flowing after a kill -9 (the programs keep using the pinned maps), and why open() must find
// and replace them. detach() removes our programs (only where the attachment is still ours)
// and the clsact qdisc where mpx created it; release() leaves everything attached for the next
// instance to take over. Which clsact qdiscs mpx created is remembered across restarts as an
// empty directory "clsact:<interface>" in the pin directory (bpffs allows directories, not
// files, and no dots in names), so the instance that adopts them also removes them at its clean stop.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "userspace/bpf/netns_scope.hpp"

namespace mpx::datapath::bpf {

enum class Hook { xdp_native, xdp_generic, tc_ingress };

inline constexpr std::uint32_t kTcHandle = 0x6d70;  // "mp"
inline constexpr std::uint32_t kTcPriority = 1;

class Attachments {
 public:
  // Attaches program_fd (named program_name) to every interface, in the calling thread's
  // namespace; on failure, what was attached is detached again. pin_dir (may be empty) holds
  // the clsact markers.
  static Result<Attachments> attach(Hook hook, int program_fd, const std::string& program_name,
                                    const std::vector<std::string>& interfaces,
                                    const std::filesystem::path& pin_dir, const NetnsHome& home);
  Attachments(Attachments&& other) noexcept;
  Attachments& operator=(Attachments&&) = delete;
  Attachments(const Attachments&) = delete;
  Attachments& operator=(const Attachments&) = delete;
  ~Attachments();  // detach() unless released

  // Best effort, in the namespace of attach() (whichever thread calls it).
  void detach();
  void release() { attached_.clear(); }

  // Interfaces where a previous mpx program was found and replaced.
  const std::vector<std::string>& replaced() const { return replaced_; }

 private:
  struct Attached {
    std::string name;
    int ifindex = 0;
    bool created_hook = false;  // TC: mpx (this or a previous instance) created the clsact qdisc
  };
  Attachments(Hook hook, int program_fd, std::filesystem::path pin_dir, const NetnsHome& home)
      : hook_(hook), program_fd_(program_fd), pin_dir_(std::move(pin_dir)), home_(&home) {}
  std::filesystem::path clsact_marker(const std::string& interface) const;
  void destroy_hook(const Attached& target) const;
  Result<void> attach_one(const std::string& interface, const std::string& program_name);
  Result<void> attach_xdp(Attached& target, const std::string& program_name);
  Result<void> attach_tc(Attached& target, const std::string& program_name);
  void detach_one(const Attached& target) const;

  Hook hook_;
  int program_fd_;
  std::filesystem::path pin_dir_;
  const NetnsHome* home_;
  std::vector<Attached> attached_;
  std::vector<std::string> replaced_;
};

}  // namespace mpx::datapath::bpf
