// CrlReloader: crl.pem -> X509_STORE, re-read on change, validated against the trusted CAs.
#include "common/tls/crl_reloader.hpp"

#include "common/tls/pem_files.hpp"
#include "common/tls/x509_text.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace mpx::tls {
namespace {

std::string time_text(const ASN1_TIME* time) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || time == nullptr || ASN1_TIME_print(bio.get(), time) != 1) {
    return "(unknown time)";
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string crl_issuer_text(const X509_CRL* crl) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_CRL_get_issuer(crl), 0, XN_FLAG_RFC2253) < 0) {
    return "(unprintable issuer)";
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return printable(std::string_view(data, static_cast<std::size_t>(length)));
}

// Swaps the store's CRLs for `crls`: adds the new ones first (a CRL identical to one already held
// is a no-op in OpenSSL) and then drops every held CRL that is not in `crls`, so a concurrent
// verification never sees a store without CRLs. Verifications take their own references to the
// CRLs they use, so freeing the store's reference here is safe.
bool replace_crls(X509_STORE* store, const X509CrlList& crls) {
  for (const auto& crl : crls) {
    if (X509_STORE_add_crl(store, crl.get()) != 1) {
      return false;
    }
  }
  if (X509_STORE_lock(store) != 1) {
    return false;
  }
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (int i = sk_X509_OBJECT_num(objects) - 1; i >= 0; --i) {
    X509_OBJECT* object = sk_X509_OBJECT_value(objects, i);
    if (X509_OBJECT_get_type(object) != X509_LU_CRL) {
      continue;
    }
    X509_CRL* held = X509_OBJECT_get0_X509_CRL(object);
    bool keep = false;
    for (const auto& crl : crls) {
      keep = keep || X509_CRL_match(held, crl.get()) == 0;
    }
    if (!keep) {
      sk_X509_OBJECT_delete(objects, i);
      X509_OBJECT_free(object);
    }
  }
  X509_STORE_unlock(store);
  return true;
}

int crl_reloader_index() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void* /*parent*/, void* pointer, CRYPTO_EX_DATA* /*data*/, int /*index*/, long /*argl*/,
         void* /*argp*/) { delete static_cast<CrlReloader*>(pointer); });
  return index;
}

// SSL_CTX certificate-verification hook: bring the CRLs up to date, then verify as usual.
int verify_with_current_crl(X509_STORE_CTX* store_ctx, void* arg) {
  auto* reloader = static_cast<CrlReloader*>(arg);
  if (!reloader->refresh(X509_STORE_CTX_get0_store(store_ctx))) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_UNABLE_TO_GET_CRL);
    return 0;
  }
  return X509_verify_cert(store_ctx);
}

}  // namespace

CrlReloader::CrlReloader(std::filesystem::path crl_file, X509List issuers)
    : file_(std::move(crl_file)), issuers_(std::move(issuers)) {}

Result<X509CrlList> CrlReloader::load_checked() const {
  auto crls = load_crls(file_);
  if (!crls) {
    return crls.error();
  }
  for (const auto& crl : crls.value()) {
    const X509* issuer = nullptr;
    for (const auto& ca : issuers_) {
      if (X509_NAME_cmp(X509_get_subject_name(ca.get()), X509_CRL_get_issuer(crl.get())) == 0) {
        issuer = ca.get();
        break;
      }
    }
    if (issuer == nullptr) {
      return Error{file_.string() + ": CRL issued by '" + crl_issuer_text(crl.get()) +
                   "' matches no CA in the trusted ca.pem"};
    }
    if (X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer)) != 1) {
      ERR_clear_error();
      return Error{file_.string() + ": CRL signature does not verify with the key of its CA '" +
                   crl_issuer_text(crl.get()) + "'"};
    }
    const ASN1_TIME* next_update = X509_CRL_get0_nextUpdate(crl.get());
    if (next_update != nullptr && X509_cmp_current_time(next_update) < 0) {
      return Error{file_.string() + ": CRL expired (next update was due " +
                   time_text(next_update) + "); install a fresh CRL from the CA"};
    }
    if (X509_cmp_current_time(X509_CRL_get0_lastUpdate(crl.get())) > 0) {
      return Error{file_.string() + ": CRL is not valid yet (issued for " +
                   time_text(X509_CRL_get0_lastUpdate(crl.get())) + ")"};
    }
  }
  return crls;
}

Result<void> CrlReloader::refresh(X509_STORE* store) {
  const std::lock_guard lock(mutex_);
  struct stat status {};
  if (::stat(file_.c_str(), &status) != 0) {
    return Error{file_.string() + ": cannot open: " + std::strerror(errno)};
  }
  const FileIdentity identity{static_cast<unsigned long long>(status.st_dev),
                              static_cast<unsigned long long>(status.st_ino),
                              static_cast<long long>(status.st_size),
                              static_cast<long long>(status.st_mtim.tv_sec),
                              static_cast<long long>(status.st_mtim.tv_nsec)};
  if (loaded_ == identity) {
    return outcome::success();
  }
  auto crls = load_checked();
  if (!crls) {
    return crls.error();
  }
  if (!replace_crls(store, crls.value())) {
    return Error{file_.string() + ": cannot install CRL: " + take_openssl_error("OpenSSL error")};
  }
  loaded_ = identity;
  return outcome::success();
}

void attach_crl_reloader(SSL_CTX* ctx, std::unique_ptr<CrlReloader> reloader) {
  CrlReloader* raw = reloader.release();
  SSL_CTX_set_ex_data(ctx, crl_reloader_index(), raw);
  SSL_CTX_set_cert_verify_callback(ctx, verify_with_current_crl, raw);
}

CrlReloader* find_crl_reloader(const SSL_CTX* ctx) {
  return static_cast<CrlReloader*>(SSL_CTX_get_ex_data(ctx, crl_reloader_index()));
}

}  // namespace mpx::tls
