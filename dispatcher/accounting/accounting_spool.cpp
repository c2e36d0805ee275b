// The spool's files: write-to-temporary + fsync + rename + directory fsync, the scan at open, and
// the record's JSON envelope.
#include "dispatcher/accounting/accounting_spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace mpx::dispatcher {
namespace {

constexpr const char* kRecordSuffix = ".rec";
constexpr const char* kTemporarySuffix = ".tmp";

std::string errno_text() { return std::strerror(errno); }

// "00000000000000000042.rec" -> 42; nullopt for any other name.
std::optional<std::uint64_t> sequence_of(const std::string& name) {
  const std::string suffix = kRecordSuffix;
  if (name.size() != 20 + suffix.size() || name.substr(20) != suffix) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return value;
}

Result<void> write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error{errno_text()};
    }
    done += static_cast<std::size_t>(n);
  }
  return outcome::success();
}

}  // namespace

AccountingSpoolSettings accounting_spool_settings(const config::DispatcherConfig& dispatcher,
                                                  const std::filesystem::path& runtime_dir,
                                                  const std::string& backend_name) {
  AccountingSpoolSettings settings;
  settings.directory = runtime_dir / dispatcher.accounting_spool_dir / backend_name;
  settings.max_records = dispatcher.accounting_spool_max_records;
  settings.durable_removal = backend_name == "radius";
  return settings;
}

std::string spool_record_text(const AccountingRow& row) {
  nlohmann::json json;
  json["call_id"] = row.call_id;
  json["from_tag"] = row.from_tag;
  json["to_tag"] = row.to_tag ? nlohmann::json(*row.to_tag) : nlohmann::json(nullptr);
  json["info"] = row.info;
  // Replace: a record must be stored even if a proxy sent bytes that are not UTF-8.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<AccountingRow> parse_spool_record(const std::string& text) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return std::nullopt;
  }
  const auto call_id = json.find("call_id");
  const auto from_tag = json.find("from_tag");
  const auto to_tag = json.find("to_tag");
  const auto info = json.find("info");
  if (call_id == json.end() || !call_id->is_string() || from_tag == json.end() ||
      !from_tag->is_string() || to_tag == json.end() ||
      !(to_tag->is_string() || to_tag->is_null()) || info == json.end() || !info->is_string()) {
    return std::nullopt;
  }
  AccountingRow row;
  row.call_id = call_id->get<std::string>();
  row.from_tag = from_tag->get<std::string>();
  if (to_tag->is_string()) {
    row.to_tag = to_tag->get<std::string>();
  }
  row.info = info->get<std::string>();
  return row;
}

Result<std::unique_ptr<AccountingSpool>> AccountingSpool::open(AccountingSpoolSettings settings) {
  std::error_code error;
  // The records hold who called whom: only the dispatcher's user may read them.
  if (std::filesystem::create_directories(settings.directory, error) && !error) {
    std::filesystem::permissions(settings.directory, std::filesystem::perms::owner_all, error);
  }
  if (error) {
    return Error{"cannot create the accounting spool " + settings.directory.string() + ": " +
                 error.message()};
  }
  const int fd = ::open(settings.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Error{"cannot open the accounting spool " + settings.directory.string() + ": " +
                 errno_text()};
  }
  std::unique_ptr<AccountingSpool> spool(new AccountingSpool(std::move(settings), fd));
  auto loaded = spool->load();
  if (!loaded) {
    return loaded.error();
  }
  return spool;
}

AccountingSpool::AccountingSpool(AccountingSpoolSettings settings, int directory_fd)
    : settings_(std::move(settings)), directory_fd_(directory_fd) {}

AccountingSpool::~AccountingSpool() {
  if (directory_fd_ >= 0) {
    ::close(directory_fd_);
  }
}

std::filesystem::path AccountingSpool::record_path(std::uint64_t sequence) const {
  return settings_.directory / fmt::format("{:020}{}", sequence, kRecordSuffix);
}

Result<void> AccountingSpool::load() {
  std::error_code error;
  std::vector<std::uint64_t> sequences;
  std::uint64_t highest = 0;
  for (const auto& item : std::filesystem::directory_iterator(settings_.directory, error)) {
    const auto name = item.path().filename().string();
    if (name.size() > 4 && name.ends_with(kTemporarySuffix)) {
      // A write that a crash interrupted before its rename: the caller never got it confirmed.
      std::filesystem::remove(item.path(), error);
      continue;
    }
    if (const auto sequence = sequence_of(name)) {
      sequences.push_back(*sequence);
      highest = std::max(highest, *sequence);
    }
  }
  if (error) {
    return Error{"cannot read the accounting spool " + settings_.directory.string() + ": " +
                 error.message()};
  }
  std::sort(sequences.begin(), sequences.end());
  for (const auto sequence : sequences) {
    const auto path = record_path(sequence);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    auto row = in ? parse_spool_record(text.str()) : std::nullopt;
    if (!row) {
      ++counters_.corrupt;
      auto kept = path;
      kept += ".corrupt";
      std::filesystem::rename(path, kept, error);
      spdlog::error("accounting spool: {} is not a readable record, skipped and kept as {}: {}",
                    path.string(), kept.string(), text.str().substr(0, 4096));
      continue;
    }
    pending_.push_back(Entry{sequence, std::move(*row)});
  }
  next_sequence_ = highest + 1;
  size_ = pending_.size();
  if (!pending_.empty()) {
    spdlog::info("accounting spool {}: {} records left by a previous run", settings_.directory.string(),
                 pending_.size());
  }
  return outcome::success();
}

Result<std::uint64_t> AccountingSpool::append(const AccountingRow& row) {
  std::uint64_t sequence = 0;
  {
    std::lock_guard lock(mutex_);
    if (size_ >= settings_.max_records) {
      ++counters_.refused;
      spdlog::error("accounting spool {} is full ({} records), record refused, call_id {}: {}",
                    settings_.directory.string(), size_, row.call_id, row.info);
      return Error{kAccountingSpoolFull};
    }
    sequence = next_sequence_++;
    ++size_;  // reserved now, so concurrent appends cannot overshoot the bound
    if (!warned_ && size_ * 5 >= settings_.max_records * 4) {
      warned_ = true;
      spdlog::warn("accounting spool {} is 80 % full ({} of {} records): the back-end is not "
                   "taking records; when it is full new records are refused",
                   settings_.directory.string(), size_, settings_.max_records);
    }
  }
  const auto path = record_path(sequence);
  auto temporary = path;
  temporary += kTemporarySuffix;
  auto failed = [&](const std::string& what) -> Result<std::uint64_t> {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    std::lock_guard lock(mutex_);
    --size_;
    ++counters_.refused;
    spdlog::error("accounting spool {}: {} ({}), record not spooled, call_id {}: {}",
                  settings_.directory.string(), what, errno_text(), row.call_id, row.info);
    return Error{"accounting spool: " + what};
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return failed("cannot create " + temporary.string());
  }
  const auto written = write_all(fd, spool_record_text(row));
  const bool synced = written.has_value() && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    return failed("cannot write " + temporary.string());
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return failed("cannot rename " + temporary.string());
  }
  // The rename is durable only once the directory is.
  if (::fsync(directory_fd_) != 0) {
    ::unlink(path.c_str());
    return failed("cannot sync " + settings_.directory.string());
  }
  std::lock_guard lock(mutex_);
  ++counters_.appended;
  return sequence;
}

Result<void> AccountingSpool::remove(std::uint64_t sequence) {
  const auto path = record_path(sequence);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) {
      return outcome::success();
    }
    const auto message = "cannot remove " + path.string() + ": " + errno_text();
    spdlog::error("accounting spool: {} (it will be delivered again, harmlessly, at the next "
                  "start)",
                  message);
    return Error{message};
  }
  // Without durable_removal no directory fsync: a removal lost in a power loss only replays a
  // record the back-end ignores (its idempotent key).
  if (settings_.durable_removal && ::fsync(directory_fd_) != 0) {
    spdlog::error("accounting spool: cannot sync {} after removing {}: {}",
                  settings_.directory.string(), path.string(), errno_text());
  }
  std::lock_guard lock(mutex_);
  if (size_ > 0) {
    --size_;
  }
  ++counters_.removed;
  if (warned_ && size_ * 5 < settings_.max_records * 4) {
    warned_ = false;
    spdlog::info("accounting spool {} is below 80 % again ({} records)",
                 settings_.directory.string(), size_);
  }
  return outcome::success();
}

std::vector<AccountingSpool::Entry> AccountingSpool::take_pending() {
  std::lock_guard lock(mutex_);
  return std::exchange(pending_, {});
}

std::size_t AccountingSpool::size() const {
  std::lock_guard lock(mutex_);
  return size_;
}

AccountingSpool::Counters AccountingSpool::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace mpx::dispatcher
