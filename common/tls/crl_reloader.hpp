// CrlReloader: keeps the CRLs in an SSL_CTX's X509_STORE in step with crl.pem on disk, so an
// operator can revoke a peer without restarting (spec 3.1: CRL checked at the handshake and again
// every verify_interval). The file is re-read only when its identity (inode, size, mtime) changed.
// A changed file that no longer loads fails closed: verification fails with that file's error
// until a good file is in place, as a missing or bad crl.pem is at start-up.
#pragma once

#include "common/result.hpp"
#include "common/tls/openssl_ptr.hpp"

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

namespace mpx::tls {

class CrlReloader {
 public:
  // `issuers` are the trusted CAs (ca.pem): every CRL must be signed by one of them.
  CrlReloader(std::filesystem::path crl_file, X509List issuers);

  // Loads crl.pem into `store` when it changed since the last successful load (always the first
  // time). Error: "<crl path>: <problem>"; the store then keeps the previous CRLs, but the error is
  // returned again on every call until the file loads.
  Result<void> refresh(X509_STORE* store);

  const std::filesystem::path& file() const { return file_; }

 private:
  struct FileIdentity {
    unsigned long long device = 0;
    unsigned long long inode = 0;
    long long size = 0;
    long long mtime_sec = 0;
    long long mtime_nsec = 0;
    bool operator==(const FileIdentity&) const = default;
  };

  Result<X509CrlList> load_checked() const;

  std::filesystem::path file_;
  X509List issuers_;
  std::mutex mutex_;
  std::optional<FileIdentity> loaded_;
};

// Hands `reloader` to `ctx` (freed with it) and makes every certificate verification in a handshake
// on `ctx` call refresh() first. The caller has already done the first refresh().
void attach_crl_reloader(SSL_CTX* ctx, std::unique_ptr<CrlReloader> reloader);

// The reloader attached to `ctx`, or null (e.g. a client context made without a CRL).
CrlReloader* find_crl_reloader(const SSL_CTX* ctx);

}  // namespace mpx::tls
