// Attachments: single-program XDP and TC attach, take-over of our own stale attachments, and
// clean detach (see attachment.hpp).
#include "userspace/bpf/attachment.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "userspace/bpf/libbpf_log.hpp"

namespace mpx::datapath::bpf {
namespace {

std::string errno_text(int negative_errno) {
  return std::string(std::strerror(-negative_errno)) + " (errno " +
         std::to_string(-negative_errno) + ")";
}

// The name and id of a loaded program ("" when it cannot be read).
struct ProgramIdentity {
  std::string name;
  __u32 id = 0;
};

ProgramIdentity identity_of_fd(int fd) {
  bpf_prog_info info{};
  __u32 length = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &length) != 0) {
    return {};
  }
  return {std::string(info.name, strnlen(info.name, sizeof info.name)), info.id};
}

std::string name_of_id(__u32 id) {
  const int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) {
    return "";
  }
  std::string name = identity_of_fd(fd).name;
  close(fd);
  return name;
}

__u32 xdp_mode_flag(Hook hook) {
  return hook == Hook::xdp_native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

bpf_tc_hook tc_hook_of(int ifindex, bpf_tc_attach_point point) {
  bpf_tc_hook hook{};
  hook.sz = sizeof hook;
  hook.ifindex = ifindex;
  hook.attach_point = point;
  return hook;
}

bpf_tc_opts tc_opts_of() {
  bpf_tc_opts opts{};
  opts.sz = sizeof opts;
  opts.handle = kTcHandle;
  opts.priority = kTcPriority;
  return opts;
}

}  // namespace

Result<Attachments> Attachments::attach(Hook hook, int program_fd,
                                        const std::string& program_name,
                                        const std::vector<std::string>& interfaces,
                                        const std::filesystem::path& pin_dir,
                                        const NetnsHome& home) {
  Attachments attachments(hook, program_fd, pin_dir, home);
  if (interfaces.empty()) {
    return Error{"no interface to attach " + program_name + " to"};
  }
  for (const std::string& interface : interfaces) {
    Result<void> done = outcome::success();
    std::string kernel_says;
    {
      const LibbpfLogCapture log;  // the kernel's extack text, e.g. why an attach failed
      done = attachments.attach_one(interface, program_name);
      kernel_says = log.tail();
    }
    if (!done) {
      attachments.detach();
      return Error{done.error().message + kernel_says};
    }
  }
  return attachments;
}

Attachments::Attachments(Attachments&& other) noexcept
    : hook_(other.hook_),
      program_fd_(other.program_fd_),
      pin_dir_(std::move(other.pin_dir_)),
      home_(other.home_),
      attached_(std::exchange(other.attached_, {})),
      replaced_(std::exchange(other.replaced_, {})) {}

Attachments::~Attachments() { detach(); }

Result<void> Attachments::attach_one(const std::string& interface,
                                     const std::string& program_name) {
  Attached target;
  target.name = interface;
  target.ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
  if (target.ifindex == 0) {
    return Error{"no interface " + interface + " in this network namespace"};
  }
  for (const Attached& done : attached_) {
    if (done.ifindex == target.ifindex) {
      return Error{"interface " + interface + " is listed twice"};
    }
  }
  auto attached = hook_ == Hook::tc_ingress ? attach_tc(target, program_name)
                                            : attach_xdp(target, program_name);
  if (!attached) {
    return attached.error();
  }
  attached_.push_back(target);
  return outcome::success();
}

Result<void> Attachments::attach_xdp(Attached& target, const std::string& program_name) {
  const __u32 mode = xdp_mode_flag(hook_);
  const char* mode_name = hook_ == Hook::xdp_native ? "native" : "generic";
  bpf_xdp_query_opts query{};
  query.sz = sizeof query;
  if (const int err = bpf_xdp_query(target.ifindex, 0, &query); err != 0) {
    return Error{"cannot query XDP on " + target.name + ": " + errno_text(err)};
  }
  bpf_xdp_attach_opts opts{};
  opts.sz = sizeof opts;
  __u32 flags = mode | XDP_FLAGS_UPDATE_IF_NOEXIST;
  int old_fd = -1;
  for (const auto& [old_id, old_mode] :
       {std::pair{query.drv_prog_id, XDP_FLAGS_DRV_MODE},
        std::pair{query.skb_prog_id, XDP_FLAGS_SKB_MODE},
        std::pair{query.hw_prog_id, XDP_FLAGS_HW_MODE}}) {
    if (old_id == 0) {
      continue;
    }
    const std::string old_name = name_of_id(old_id);
    if (old_name != program_name) {
      return Error{"interface " + target.name + " already has the XDP program '" + old_name +
                   "' (id " + std::to_string(old_id) +
                   ") attached; mpx does not replace another program: detach it (ip link set dev " +
                   target.name + " xdp off) or use another datapath"};
    }
    if (old_mode != mode) {
      // A previous mpx attachment in the other mode: native and generic cannot coexist.
      if (const int err = bpf_xdp_detach(target.ifindex, old_mode, nullptr); err != 0) {
        return Error{"cannot detach the previous " + program_name + " from " + target.name + ": " +
                     errno_text(err)};
      }
    } else {
      old_fd = bpf_prog_get_fd_by_id(old_id);
      if (old_fd >= 0) {
        opts.old_prog_fd = old_fd;
        flags = mode | XDP_FLAGS_REPLACE;
      }
    }
    replaced_.push_back(target.name);
  }
  const int err = bpf_xdp_attach(target.ifindex, program_fd_, flags, &opts);
  if (old_fd >= 0) {
    close(old_fd);
  }
  if (err != 0) {
    std::string hint;
    if (err == -EOPNOTSUPP && hook_ == Hook::xdp_native) {
      hint = ": the driver has no native XDP; use generic mode";
    } else if (err == -EBUSY || err == -EEXIST) {
      hint = ": another XDP program was attached meanwhile";
    }
    return Error{"cannot attach " + program_name + " (XDP " + mode_name + ") to " + target.name +
                 ": " + errno_text(err) + hint};
  }
  return outcome::success();
}

Result<void> Attachments::attach_tc(Attached& target, const std::string& program_name) {
  bpf_tc_hook hook = tc_hook_of(target.ifindex, BPF_TC_INGRESS);
  const int created = bpf_tc_hook_create(&hook);
  if (created != 0 && created != -EEXIST) {
    return Error{"cannot create the clsact qdisc on " + target.name + ": " + errno_text(created)};
  }
  const std::filesystem::path marker = clsact_marker(target.name);
  if (created == 0) {
    target.created_hook = true;
    if (!marker.empty()) {
      (void)mkdir(marker.c_str(), 0700);  // best effort: without it the qdisc may outlive us
    }
  } else {
    std::error_code ec;  // never throw from here
    target.created_hook = !marker.empty() && std::filesystem::is_directory(marker, ec);
  }
  bpf_tc_opts query = tc_opts_of();
  bpf_tc_opts opts = tc_opts_of();
  opts.prog_fd = program_fd_;
  // A fresh qdisc has no filter to query; on an existing one, an empty chain answers EINVAL
  // ("cannot find specified filter chain") and a chain without our handle ENOENT.
  const int found = created == 0 ? -ENOENT : bpf_tc_query(&hook, &query);
  if (found == 0) {
    const std::string old_name = name_of_id(query.prog_id);
    if (old_name != program_name) {
      return Error{"interface " + target.name + " already has the TC program '" + old_name +
                   "' (id " + std::to_string(query.prog_id) + ") at ingress handle " +
                   std::to_string(kTcHandle) + " priority " + std::to_string(kTcPriority) +
                   "; mpx does not replace another program"};
    }
    opts.flags = BPF_TC_F_REPLACE;
    replaced_.push_back(target.name);
  } else if (found != -ENOENT && found != -EINVAL) {
    return Error{"cannot query TC ingress filters on " + target.name + ": " + errno_text(found)};
  }
  if (const int err = bpf_tc_attach(&hook, &opts); err != 0) {
    if (created == 0) {
      destroy_hook(target);
    }
    return Error{"cannot attach " + program_name + " (TC ingress) to " + target.name + ": " +
                 errno_text(err)};
  }
  return outcome::success();
}

std::filesystem::path Attachments::clsact_marker(const std::string& interface) const {
  if (pin_dir_.empty()) {
    return {};
  }
  // bpffs refuses names with a dot (EPERM, "reserved"); interface names cannot hold ':'.
  std::string name = "clsact:" + interface;
  std::replace(name.begin(), name.end(), '.', ':');
  return pin_dir_ / name;
}

void Attachments::destroy_hook(const Attached& target) const {
  // Ingress and egress together: that is what removes the clsact qdisc itself.
  bpf_tc_hook both =
      tc_hook_of(target.ifindex, static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
  (void)bpf_tc_hook_destroy(&both);
  if (const std::filesystem::path marker = clsact_marker(target.name); !marker.empty()) {
    (void)rmdir(marker.c_str());
  }
}

void Attachments::detach_one(const Attached& target) const {
  if (hook_ == Hook::tc_ingress) {
    bpf_tc_hook hook = tc_hook_of(target.ifindex, BPF_TC_INGRESS);
    bpf_tc_opts query = tc_opts_of();
    // Only our own program: someone may have replaced the filter since.
    if (bpf_tc_query(&hook, &query) == 0 && query.prog_id == identity_of_fd(program_fd_).id) {
      bpf_tc_opts opts = tc_opts_of();
      (void)bpf_tc_detach(&hook, &opts);
    }
    if (target.created_hook) {
      destroy_hook(target);
    }
    return;
  }
  // XDP_FLAGS_REPLACE with our program as the old one: detaches only if it is still ours.
  bpf_xdp_attach_opts opts{};
  opts.sz = sizeof opts;
  opts.old_prog_fd = program_fd_;
  (void)bpf_xdp_detach(target.ifindex, xdp_mode_flag(hook_) | XDP_FLAGS_REPLACE, &opts);
}

void Attachments::detach() {
  if (attached_.empty()) {
    return;
  }
  const NetnsHome::Visit visit = home_->visit();
  const LibbpfLogCapture quiet;  // best effort: nothing to report to
  if (visit.ok()) {
    for (const Attached& target : attached_) {
      detach_one(target);
    }
  }
  attached_.clear();
}

}  // namespace mpx::datapath::bpf
