// ConntrackTable: libnetfilter_conntrack queries (create, get, update, destroy, filtered dump)
// on one ctnetlink socket, with every failure turned into a one-line Error.
#include "userspace/conntrack/conntrack_table.hpp"

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "userspace/conntrack/conntrack_objects.hpp"
#include "userspace/conntrack/flow_text.hpp"

namespace mpx::datapath::conntrack {
namespace {

struct FilterDeleter {
  void operator()(nfct_filter_dump* filter) const noexcept { nfct_filter_dump_destroy(filter); }
};

std::string errno_text(int error) { return std::string(std::strerror(error)); }

// Collects every entry a GET or dump delivers; ownership stays with the library.
struct Collector {
  std::vector<EntrySnapshot> entries;
  std::uint32_t only_mark = 0;
  bool filter_mark = false;
};

int collect(nf_conntrack_msg_type /*type*/, nf_conntrack* ct, void* data) {
  auto* collector = static_cast<Collector*>(data);
  if (collector->filter_mark && nfct_get_attr_u32(ct, ATTR_MARK) != collector->only_mark) {
    return NFCT_CB_CONTINUE;
  }
  collector->entries.push_back(snapshot_of(ct));
  return NFCT_CB_CONTINUE;
}

}  // namespace

void ConntrackTable::HandleCloser::operator()(nfct_handle* handle) const noexcept {
  nfct_close(handle);
}

ConntrackTable::ConntrackTable(nfct_handle* handle) : handle_(handle) {}
ConntrackTable::ConntrackTable(ConntrackTable&&) noexcept = default;
ConntrackTable& ConntrackTable::operator=(ConntrackTable&&) noexcept = default;
ConntrackTable::~ConntrackTable() = default;

Result<ConntrackTable> ConntrackTable::open() {
  nfct_handle* handle = nfct_open(CONNTRACK, 0);
  if (handle == nullptr) {
    return Error{"conntrack: cannot open a ctnetlink socket (needs CAP_NET_ADMIN): " +
                 errno_text(errno)};
  }
  return ConntrackTable(handle);
}

Result<CreateOutcome> ConntrackTable::create_nat(const NatEntrySpec& spec) {
  auto ct = nat_object(spec);
  if (!ct) {
    return ct.error();
  }
  nf_conntrack* raw = ct.value().get();
  if (nfct_query(handle_.get(), NFCT_Q_CREATE, raw) == 0) {
    return CreateOutcome::kCreated;
  }
  const int error = errno;
  if (error == EEXIST) {
    return CreateOutcome::kExists;
  }
  return Error{"conntrack: create failed: " + errno_text(error)};
}

Result<std::optional<EntrySnapshot>> ConntrackTable::get(const Endpoint& src, const Endpoint& dst) {
  auto ct = tuple_object(src, dst);
  if (!ct) {
    return ct.error();
  }
  Collector collector;
  nfct_callback_register(handle_.get(), NFCT_T_ALL, collect, &collector);
  const int rc = nfct_query(handle_.get(), NFCT_Q_GET, ct.value().get());
  const int error = errno;
  nfct_callback_unregister(handle_.get());
  if (rc != 0) {
    if (error == ENOENT) {
      return std::optional<EntrySnapshot>{};
    }
    return Error{"conntrack: get " + describe(src) + " -> " + describe(dst) +
                 " failed: " + errno_text(error)};
  }
  if (collector.entries.empty()) {
    return std::optional<EntrySnapshot>{};
  }
  return std::optional<EntrySnapshot>{collector.entries.front()};
}

Result<bool> ConntrackTable::set_timeout(const Endpoint& src, const Endpoint& dst,
                                         std::uint32_t seconds) {
  auto ct = tuple_object(src, dst);
  if (!ct) {
    return ct.error();
  }
  nfct_set_attr_u32(ct.value().get(), ATTR_TIMEOUT, seconds);
  if (nfct_query(handle_.get(), NFCT_Q_UPDATE, ct.value().get()) == 0) {
    return true;
  }
  const int error = errno;
  if (error == ENOENT) {
    return false;
  }
  return Error{"conntrack: re-arming the timeout of " + describe(src) + " -> " + describe(dst) +
               " failed: " + errno_text(error)};
}

Result<bool> ConntrackTable::destroy(const Endpoint& src, const Endpoint& dst) {
  auto ct = tuple_object(src, dst);
  if (!ct) {
    return ct.error();
  }
  if (nfct_query(handle_.get(), NFCT_Q_DESTROY, ct.value().get()) == 0) {
    return true;
  }
  const int error = errno;
  if (error == ENOENT) {
    return false;
  }
  return Error{"conntrack: delete " + describe(src) + " -> " + describe(dst) +
               " failed: " + errno_text(error)};
}

Result<std::vector<EntrySnapshot>> ConntrackTable::dump_marked(std::uint32_t mark) {
  std::unique_ptr<nfct_filter_dump, FilterDeleter> filter(nfct_filter_dump_create());
  if (!filter) {
    return Error{"conntrack: out of memory allocating a dump filter"};
  }
  nfct_filter_dump_mark by_mark{mark, 0xffffffffU};
  nfct_filter_dump_set_attr(filter.get(), NFCT_FILTER_DUMP_MARK, &by_mark);
  nfct_filter_dump_set_attr_u8(filter.get(), NFCT_FILTER_DUMP_L3NUM, AF_INET);

  // The kernel filters by mark; the callback checks again so an older kernel that ignores the
  // filter can never make us touch entries that are not ours.
  Collector collector;
  collector.filter_mark = true;
  collector.only_mark = mark;
  nfct_callback_register(handle_.get(), NFCT_T_ALL, collect, &collector);
  const int rc = nfct_query(handle_.get(), NFCT_Q_DUMP_FILTER, filter.get());
  const int error = errno;
  nfct_callback_unregister(handle_.get());
  if (rc != 0) {
    return Error{"conntrack: listing entries with mark " + std::to_string(mark) +
                 " failed: " + errno_text(error)};
  }
  return std::move(collector.entries);
}

Result<std::size_t> ConntrackTable::destroy_marked(std::uint32_t mark) {
  auto entries = dump_marked(mark);
  if (!entries) {
    return entries.error();
  }
  std::size_t deleted = 0;
  for (const auto& entry : entries.value()) {
    // Entries may expire between the dump and here: a missing one is not an error.
    auto gone = destroy(entry.orig_src, entry.orig_dst);
    if (!gone) {
      return Error{gone.error().message + " (deleting entries with mark " + std::to_string(mark) +
                   ")"};
    }
    if (gone.value()) {
      ++deleted;
    }
  }
  return deleted;
}

}  // namespace mpx::datapath::conntrack
