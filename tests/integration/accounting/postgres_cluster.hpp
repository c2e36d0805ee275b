// A throw-away PostgreSQL cluster for the accounting integration tests: initdb and pg_ctl from
// Debian's postgresql-15 run as the postgres user in a temporary directory, listening on a unix
// socket there and on a free TCP port on 127.0.0.1; stop() and restart() make an outage; the
// cluster is stopped (by its data directory) and deleted when the object goes, also when a test
// fails.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "tests/support/subprocess.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::dispatcher::accounting_test {

using namespace std::chrono_literals;

inline const std::string kBin = "/usr/lib/postgresql/15/bin/";

inline std::uint16_t free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
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

class PostgresCluster {
 public:
  PostgresCluster() : dir_("mpx-pg") {}
  ~PostgresCluster() {
    if (started_) {
      test::run({"runuser", "-u", "postgres", "--", kBin + "pg_ctl", "-D", data(), "-m",
                 "immediate", "-w", "stop"},
                30s);
    }
  }
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // "" on success, else what went wrong (with the server log).
  std::string start() {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      return "no postgres user";
    }
    std::filesystem::create_directory(dir_.path() / "sock");
    for (const auto& p : {dir_.path(), dir_.path() / "sock"}) {
      if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return "chown failed";
      }
    }
    auto init = test::run({"runuser", "-u", "postgres", "--", kBin + "initdb", "-D", data(),
                           "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"},
                          120s);
    if (init.exit_code != 0) {
      return "initdb failed: " + init.out + init.err;
    }
    port_ = free_tcp_port();
    return restart();
  }

  // Starts the initialized cluster again (after stop(), for an outage), on the same port.
  std::string restart() {
    const std::string options = "-k " + (dir_.path() / "sock").string() + " -p " +
                                std::to_string(port_) +
                                " -c listen_addresses=127.0.0.1 -c fsync=off";
    auto started = test::run({"runuser", "-u", "postgres", "--", kBin + "pg_ctl", "-D", data(),
                              "-o", options, "-l", (dir_.path() / "server.log").string(), "-w",
                              "-t", "60", "start"},
                             90s);
    started_ = true;  // stop even a half-started server
    if (started.exit_code != 0) {
      auto log = test::run({"cat", (dir_.path() / "server.log").string()});
      return "pg_ctl start failed: " + started.out + started.err + log.out;
    }
    return "";
  }

  // An outage: the server goes away, its connections are cut.
  bool stop() {
    auto stopped = test::run({"runuser", "-u", "postgres", "--", kBin + "pg_ctl", "-D", data(),
                              "-m", "fast", "-w", "stop"},
                             60s);
    started_ = stopped.exit_code != 0;
    return stopped.exit_code == 0;
  }

  // Runs SQL as the superuser; unaligned output, fields separated by '|'.
  test::RunResult psql(const std::string& database, const std::string& sql) {
    return test::run({"runuser", "-u", "postgres", "--", kBin + "psql", "-X", "-q", "-At", "-F",
                      "|", "-v", "ON_ERROR_STOP=1", "-h", (dir_.path() / "sock").string(), "-p",
                      std::to_string(port_), "-d", database, "-c", sql},
                     30s);
  }

  std::string uri(const std::string& user, const std::string& database) const {
    return "postgres://" + user + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }

 private:
  std::string data() const { return (dir_.path() / "data").string(); }

  test::TempDir dir_;
  std::uint16_t port_ = 0;
  bool started_ = false;
};

}  // namespace mpx::dispatcher::accounting_test
