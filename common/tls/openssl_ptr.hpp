// Owning handles for the OpenSSL objects common/tls creates, and the one-line text of OpenSSL's
// error queue. unique_ptr with the matching *_free function so no path can leak on an early return.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>
#include <vector>

namespace mpx::tls {

template <class T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<X509_CRL, X509_CRL_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using X509StoreCtxPtr =
    std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

using X509List = std::vector<X509Ptr>;
using X509CrlList = std::vector<X509CrlPtr>;

// The reason of the most recent error on this thread's OpenSSL error queue (e.g. "no start line"),
// or `fallback` when the queue is empty. Clears the queue so later calls start clean.
std::string take_openssl_error(const std::string& fallback);

}  // namespace mpx::tls
