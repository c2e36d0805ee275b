// NamespacePreparer: sysctls through /proc/sys and the nftables table through libnftables (one
// transaction per change, errors taken from libnftables' error buffer).
#include "userspace/conntrack/namespace_preparer.hpp"

#include <nftables/libnftables.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "userspace/conntrack/sysctl.hpp"

namespace mpx::datapath {
namespace {

bool valid_table_name(const std::string& name) {
  if (name.empty() || name.size() > 32 || std::isalpha(static_cast<unsigned char>(name[0])) == 0) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.pop_back();
  }
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

// Runs one nft script as a single transaction.
Result<void> run_nft(nft_ctx* ctx, const std::string& script) {
  const int rc = nft_run_cmd_from_buffer(ctx, script.c_str());
  const char* errors = nft_ctx_get_error_buffer(ctx);
  std::string message = trimmed(errors != nullptr ? errors : "");
  // Reading the buffer does not reset it; start the next command with an empty one.
  nft_ctx_unbuffer_error(ctx);
  nft_ctx_buffer_error(ctx);
  if (rc != 0) {
    return Error{"nftables: '" + trimmed(script) + "' failed: " +
                 (message.empty() ? std::string("no detail from libnftables") : message)};
  }
  return outcome::success();
}

// Adding then deleting makes the deletion succeed whether or not the table existed.
std::string delete_table_script(const std::string& table) {
  return "add table ip " + table + "\ndelete table ip " + table + "\n";
}

}  // namespace

void NamespacePreparer::ContextDeleter::operator()(nft_ctx* ctx) const noexcept {
  nft_ctx_free(ctx);
}

NamespacePreparer::NamespacePreparer(Context context, std::string table)
    : context_(std::move(context)), table_(std::move(table)) {}

NamespacePreparer::NamespacePreparer(NamespacePreparer&& other) noexcept
    : context_(std::move(other.context_)),
      table_(std::move(other.table_)),
      removed_(std::exchange(other.removed_, true)) {}

NamespacePreparer& NamespacePreparer::operator=(NamespacePreparer&& other) noexcept {
  if (this != &other) {
    (void)remove();
    context_ = std::move(other.context_);
    table_ = std::move(other.table_);
    removed_ = std::exchange(other.removed_, true);
  }
  return *this;
}

NamespacePreparer::~NamespacePreparer() { (void)remove(); }

Result<NamespacePreparer> NamespacePreparer::prepare(const Options& options) {
  if (!valid_table_name(options.table)) {
    return Error{"namespace preparation: invalid nftables table name '" + options.table +
                 "' (letters, digits and '_', starting with a letter, at most 32)"};
  }
  // Accounting first: it only applies to entries created after it is on.
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"net.netfilter.nf_conntrack_acct", "1"},
        std::pair<std::string, std::string>{"net.ipv4.ip_forward", "1"}}) {
    auto written = write_sysctl(key, value);
    if (!written) {
      return Error{"namespace preparation: " + written.error().message};
    }
  }

  Context context(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!context) {
    return Error{"namespace preparation: libnftables could not create a context"};
  }
  nft_ctx_buffer_output(context.get());
  nft_ctx_buffer_error(context.get());

  const std::string& t = options.table;
  std::string script = delete_table_script(t) + "add table ip " + t + "\n" + "add chain ip " + t +
                       " postrouting { type nat hook postrouting priority srcnat; "
                       "policy accept; }\n" +
                       "add rule ip " + t + " postrouting ct state new counter\n";
  if (options.own_ports) {
    const auto [first, last] = *options.own_ports;
    if (first == 0 || first > last) {
      return Error{"namespace preparation: invalid media port range " + std::to_string(first) +
                   "-" + std::to_string(last)};
    }
    script += "add chain ip " + t +
              " output { type filter hook output priority raw; policy accept; }\n" +
              "add rule ip " + t + " output udp sport " + std::to_string(first) + "-" +
              std::to_string(last) + " counter notrack\n";
  }
  auto created = run_nft(context.get(), script);
  if (!created) {
    return Error{"namespace preparation: " + created.error().message};
  }
  return NamespacePreparer(std::move(context), t);
}

Result<void> NamespacePreparer::remove() {
  if (removed_ || !context_) {
    return outcome::success();
  }
  auto deleted = run_nft(context_.get(), delete_table_script(table_));
  if (!deleted) {
    return Error{"namespace cleanup: " + deleted.error().message};
  }
  removed_ = true;
  return outcome::success();
}

}  // namespace mpx::datapath
