// PEM file loading for common/tls: read the whole file (so open/read errors carry errno's text),
// then decode from memory with OpenSSL's PEM readers.
#include "common/tls/pem_files.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace mpx::tls {
namespace {

// Generous for any certificate bundle or CRL; stops a wrong path (a device, a huge file) early.
constexpr std::size_t max_pem_file_size = 64UL * 1024 * 1024;

Error file_error(const std::filesystem::path& file, const std::string& problem) {
  return Error{file.string() + ": " + problem};
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

Result<std::string> read_whole_file(const std::filesystem::path& file) {
  std::unique_ptr<std::FILE, FileCloser> stream(std::fopen(file.c_str(), "rb"));
  if (!stream) {
    return file_error(file, std::string("cannot open: ") + std::strerror(errno));
  }
  std::string content;
  char buffer[16384];
  for (;;) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, stream.get());
    content.append(buffer, n);
    if (content.size() > max_pem_file_size) {
      return file_error(file, "file is too large to be PEM material");
    }
    if (n < sizeof buffer) {
      if (std::ferror(stream.get()) != 0) {
        return file_error(file, std::string("cannot read: ") + std::strerror(errno));
      }
      break;
    }
  }
  return content;
}

Result<BioPtr> memory_bio(const std::filesystem::path& file, const std::string& content) {
  BioPtr bio(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  if (!bio) {
    return file_error(file, "out of memory");
  }
  return bio;
}

// After a PEM reader returned null: true when that only means "no further object in the file".
bool at_end_of_pem_objects() {
  const unsigned long code = ERR_peek_last_error();
  if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
    return true;
  }
  return false;
}

// Reads every object of one kind; `what` names it in messages ("certificate", "CRL").
template <class Ptr, class Reader>
Result<std::vector<Ptr>> read_all(const std::filesystem::path& file, const char* what,
                                  const char* pem_label, Reader reader) {
  auto content = read_whole_file(file);
  if (!content) {
    return content.error();
  }
  auto bio = memory_bio(file, content.value());
  if (!bio) {
    return bio.error();
  }
  ERR_clear_error();
  std::vector<Ptr> objects;
  for (;;) {
    Ptr object(reader(bio.value().get()));
    if (!object) {
      break;
    }
    objects.push_back(std::move(object));
  }
  if (!at_end_of_pem_objects()) {
    return file_error(file, "cannot parse " + std::string(what) + " #" +
                                std::to_string(objects.size() + 1) + ": " +
                                take_openssl_error("malformed PEM data"));
  }
  if (objects.empty()) {
    return file_error(file, "no " + std::string(what) + " found (expected a PEM '-----BEGIN " +
                                pem_label + "-----' block)");
  }
  return objects;
}

// Refuses to prompt on a terminal for a passphrase: a daemon has no one to ask.
int no_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

}  // namespace

Result<X509List> load_certificates(const std::filesystem::path& file) {
  return read_all<X509Ptr>(file, "certificate", "CERTIFICATE", [](BIO* bio) {
    return PEM_read_bio_X509(bio, nullptr, no_passphrase, nullptr);
  });
}

Result<X509CrlList> load_crls(const std::filesystem::path& file) {
  return read_all<X509CrlPtr>(file, "CRL", "X509 CRL", [](BIO* bio) {
    return PEM_read_bio_X509_CRL(bio, nullptr, no_passphrase, nullptr);
  });
}

Result<EvpPkeyPtr> load_private_key(const std::filesystem::path& file) {
  auto content = read_whole_file(file);
  if (!content) {
    return content.error();
  }
  auto bio = memory_bio(file, content.value());
  if (!bio) {
    return bio.error();
  }
  ERR_clear_error();
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.value().get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    if (content.value().find("ENCRYPTED") != std::string::npos) {
      ERR_clear_error();
      return file_error(file, "the private key is passphrase-protected; store it unencrypted");
    }
    if (at_end_of_pem_objects()) {
      return file_error(file, "no private key found (expected a PEM '-----BEGIN PRIVATE KEY-----' "
                              "block)");
    }
    return file_error(file, "cannot parse private key: " +
                                take_openssl_error("malformed PEM data"));
  }
  return key;
}

}  // namespace mpx::tls
