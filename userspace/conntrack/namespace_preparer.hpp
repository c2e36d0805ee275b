// NamespacePreparer: makes the relay's network namespace able to run the conntrack datapath, and
// undoes its own part on exit. At prepare():
//  - net.ipv4.ip_forward=1 (NAT entries forward between interfaces);
//  - net.netfilter.nf_conntrack_acct=1, before any entry of ours exists (an entry created
//    without it never gets counters);
//  - its own nftables table `ip <table>` with a nat chain on postrouting holding one
//    `ct state new counter` rule: that rule is what registers BOTH the conntrack and the NAT
//    hooks in the namespace; with either alone the kernel ignores NAT entries and delivers
//    packets to the local sockets (spec/kernel-datapaths.md). A table of the same name left by
//    a crashed relay is replaced in the same transaction;
//  - in that table, with Options::own_ports, an output chain at raw priority that keeps
//    conntrack off the UDP packets the relay's own sockets send from its media ports. Such a
//    packet, sent while a NAT entry of the same stream exists (the relay still forwards the
//    packets that reached its socket before the hand-off), would get a conntrack entry whose
//    reply tuple is the NAT entry's: the NAT hook resolves that clash by giving it ANOTHER
//    source port, and the endpoint sees media from a port the relay never signalled. Untracked,
//    the packet leaves from its socket's port; the kernel's NAT entries are untouched by it.
// The destructor (or remove()) deletes the table. The sysctls are left as they are: other users
// of the namespace may rely on them, and they cost nothing.
// Works on the calling thread's network namespace; the nftables netlink socket is opened there
// and kept, so the removal reaches the same namespace from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/result.hpp"

struct nft_ctx;

namespace mpx::datapath {

class NamespacePreparer {
 public:
  struct Options {
    std::string table = "mpx_relay";  // letters, digits, '_'; starts with a letter; <= 32
    // The relay's media ports, first and last (RTCP of the last pair), for the output rule.
    std::optional<std::pair<std::uint16_t, std::uint16_t>> own_ports{};
  };

  static Result<NamespacePreparer> prepare(const Options& options);
  static Result<NamespacePreparer> prepare() { return prepare(Options{}); }

  NamespacePreparer(NamespacePreparer&&) noexcept;
  NamespacePreparer& operator=(NamespacePreparer&&) noexcept;
  ~NamespacePreparer();  // remove(), errors ignored

  // Deletes the table (idempotent: also fine when it is already gone).
  Result<void> remove();
  const std::string& table() const { return table_; }

 private:
  struct ContextDeleter {
    void operator()(nft_ctx* ctx) const noexcept;
  };
  using Context = std::unique_ptr<nft_ctx, ContextDeleter>;

  NamespacePreparer(Context context, std::string table);

  Context context_;
  std::string table_;
  bool removed_ = false;
};

}  // namespace mpx::datapath
