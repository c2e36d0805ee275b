// A throw-away FreeRADIUS for the accounting integration tests: a minimal raddb in a temporary
// directory (an acct listener on 127.0.0.1 and a free port, a client 127.0.0.1 with a secret, the
// SIP tag attributes plus mpx's shipped dictionary.mediaproxy, and the detail module writing every
// request to <dir>/detail), the radcli client.conf that reaches it, the detail file's parser, and
// FreeradiusServer, which runs `freeradius -X -d <raddb>` in the foreground until stop() (by its
// PID) or destruction; start it again on the same raddb for the end of an outage.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dispatcher/accounting/radius_backend.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher::accounting_test {

using namespace std::chrono_literals;

inline constexpr const char* kSecret = "mpx-test-secret";

inline std::uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return 0;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A raddb with just what accounting needs.
inline void write_raddb(const test::TempDir& dir, std::uint16_t port) {
  const auto root = dir.path().string();
  std::filesystem::create_directories(dir.path() / "raddb");
  dir.write("raddb/radiusd.conf",
            "prefix = /usr\nexec_prefix = /usr\nsysconfdir = /etc\nlocalstatedir = " + root +
                "\nsbindir = /usr/sbin\nlogdir = " + root + "\nraddbdir = " + root +
                "/raddb\nradacctdir = " + root +
                "\nname = freeradius\nconfdir = ${raddbdir}\nmodconfdir = ${confdir}/mods-config\n"
                "certdir = ${confdir}/certs\ncadir = ${confdir}/certs\nrun_dir = " + root +
                "\ndb_dir = " + root + "\nlibdir = /usr/lib/freeradius\npidfile = " + root +
                "/radiusd.pid\nmax_request_time = 30\ncleanup_delay = 1\nmax_requests = 1024\n"
                "hostname_lookups = no\nlog {\n  destination = stdout\n}\n"
                "security {\n  allow_core_dumps = no\n  max_attributes = 200\n  reject_delay = 0\n"
                "  status_server = no\n}\n"
                "client localhost {\n  ipaddr = 127.0.0.1\n  secret = " + kSecret + "\n}\n"
                "modules {\n  detail {\n    filename = " + root + "/detail\n"
                "    escape_filenames = no\n    permissions = 0600\n    header = \"%t\"\n  }\n}\n"
                "server default {\n  listen {\n    type = acct\n    ipaddr = 127.0.0.1\n"
                "    port = " + std::to_string(port) + "\n  }\n  accounting {\n    detail\n  }\n}\n");
  // FreeRADIUS's own dictionary.openser clashes with its other SIP dictionaries: define just the
  // two tag attributes (OpenSIPS's numbers) and include the dictionary mpx ships.
  dir.write("raddb/dictionary",
            "ATTRIBUTE\tSip-To-Tag\t104\tstring\nATTRIBUTE\tSip-From-Tag\t105\tstring\n$INCLUDE " +
                test::source_path("dispatcher/accounting/radius/dictionary.mediaproxy") + "\n");
}

// The radcli side: an OpenSIPS-style client.conf whose main dictionary has the SIP attributes.
inline RadiusBackendSettings write_client(const test::TempDir& dir, std::uint16_t port) {
  const auto root = dir.path().string();
  dir.write("client/servers", std::string("127.0.0.1 ") + kSecret + "\n");
  dir.write("client/dictionary",
            "$INCLUDE /etc/radcli/dictionary\n$INCLUDE /etc/radcli/dictionary.sip\n");
  dir.write("client/client.conf",
            "# radiusclient-ng style, as OpenSIPS installs it\nauthserver 127.0.0.1:" +
                std::to_string(port) + "\nacctserver 127.0.0.1:" + std::to_string(port) +
                "\nservers " + root + "/client/servers\ndictionary " + root +
                "/client/dictionary\nradius_timeout 1\nradius_retries 1\nbindaddr *\n");
  config::RadiusConfig radius;
  radius.config_file = "client.conf";
  radius.additional_dictionary = "radius/dictionary";  // not there: the shipped one is used
  auto settings = radius_backend_settings(
      radius, dir.path() / "client",
      test::source_path("dispatcher/accounting/radius/dictionary.mediaproxy"));
  EXPECT_TRUE(settings.has_value()) << settings.error().message;
  auto value = std::move(settings).value();
  value.retry_initial = 200ms;
  value.retry_max = 1s;
  return value;
}

// The detail file's records: `\tName = value` lines (strings unquoted), separated by blank lines.
inline std::vector<std::map<std::string, std::string>> detail_records(const std::string& text) {
  std::vector<std::map<std::string, std::string>> records;
  std::map<std::string, std::string> current;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      if (!current.empty()) {
        records.push_back(current);
        current.clear();
      }
      continue;
    }
    if (line[0] != '\t') {
      continue;  // the header (time)
    }
    const auto equals = line.find(" = ");
    if (equals == std::string::npos) {
      continue;
    }
    auto value = line.substr(equals + 3);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    current[line.substr(1, equals - 1)] = value;
  }
  if (!current.empty()) {
    records.push_back(current);
  }
  return records;
}

class FreeradiusServer {
 public:
  explicit FreeradiusServer(const test::TempDir& dir) : dir_(dir) {}
  // "" once it is ready to process requests, else what went wrong (with its log).
  std::string start() {
    const auto log = (dir_.path() / ("freeradius-" + std::to_string(++runs_) + ".log")).string();
    child_ = std::make_unique<test::Child>(
        std::vector<std::string>{"freeradius", "-X", "-d", (dir_.path() / "raddb").string()}, log);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (child_->running() &&
           read_file(log).find("Ready to process requests") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    if (read_file(log).find("Ready to process requests") == std::string::npos) {
      return "freeradius did not start: " + child_->log();
    }
    return "";
  }
  void stop() {
    if (child_) {
      child_->stop();
      child_.reset();
    }
  }
  std::string log() const { return child_ ? child_->log() : std::string(); }

 private:
  const test::TempDir& dir_;
  std::unique_ptr<test::Child> child_;
  int runs_ = 0;
};

}  // namespace mpx::dispatcher::accounting_test
