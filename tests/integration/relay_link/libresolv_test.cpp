// LibresolvDnsClient against a tiny scripted DNS server on 127.0.0.1 (UDP, its own thread): SRV
// targets in answer order (compressed names expanded), A records, NXDOMAIN as an empty answer,
// SERVFAIL as an error, and resolve_dispatcher end to end through the real resolver code.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "relay/link/libresolv_dns_client.hpp"

namespace mpx::relay::link {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeSrv = 33;

void put16(std::string& out, unsigned value) {
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

std::string encode_name(const std::string& name) {
  std::string out;
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) {
      dot = name.size();
    }
    out.push_back(static_cast<char>(dot - start));
    out += name.substr(start, dot - start);
    start = dot + 1;
  }
  out.push_back('\0');
  return out;
}

// Answers from a fixed table; "fail.test" gets SERVFAIL, unknown names NXDOMAIN.
using Records = std::map<std::pair<std::string, std::uint16_t>, std::vector<std::string>>;

class ScriptedDnsServer {
 public:
  // `records`: rdata per (name, type); fixed before the server thread starts.
  explicit ScriptedDnsServer(Records table)
      : records(std::move(table)),
        socket_(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedDnsServer() {
    stopping_ = true;
    boost::system::error_code ignored;
    udp::socket poke(io_, udp::v4());
    poke.send_to(asio::buffer("x", 1), endpoint(), 0, ignored);
    thread_.join();
  }
  udp::endpoint endpoint() const { return socket_.local_endpoint(); }

  const Records records;

 private:
  void serve() {
    std::array<char, 1500> buffer{};
    while (!stopping_) {
      udp::endpoint client;
      boost::system::error_code error;
      const std::size_t n = socket_.receive_from(asio::buffer(buffer), client, 0, error);
      if (error || stopping_ || n < 12) {
        continue;
      }
      const std::string query(buffer.data(), n);
      // Question: labels from offset 12, then type and class.
      std::string name;
      std::size_t at = 12;
      while (at < query.size() && query[at] != '\0') {
        const auto length = static_cast<std::size_t>(static_cast<unsigned char>(query[at]));
        if (!name.empty()) {
          name += '.';
        }
        name += query.substr(at + 1, length);
        at += length + 1;
      }
      at += 1;
      if (at + 4 > query.size()) {
        continue;
      }
      const auto type = static_cast<std::uint16_t>(
          (static_cast<unsigned char>(query[at]) << 8) | static_cast<unsigned char>(query[at + 1]));
      const std::string question = query.substr(12, at + 4 - 12);

      unsigned rcode = 0;
      std::vector<std::string> answers;
      if (name == "fail.test") {
        rcode = 2;
      } else if (auto found = records.find({name, type}); found != records.end()) {
        answers = found->second;
      } else {
        bool known = false;
        for (const auto& [key, value] : records) {
          known = known || key.first == name;
        }
        rcode = known ? 0 : 3;
      }
      std::string reply = query.substr(0, 2);  // id
      put16(reply, 0x8180 | rcode);            // response, RD, RA
      put16(reply, 1);
      put16(reply, static_cast<unsigned>(answers.size()));
      put16(reply, 0);
      put16(reply, 0);
      reply += question;
      for (const auto& rdata : answers) {
        put16(reply, 0xc00c);  // the question's name
        put16(reply, type);
        put16(reply, 1);
        put16(reply, 0);
        put16(reply, 60);
        put16(reply, static_cast<unsigned>(rdata.size()));
        reply += rdata;
      }
      socket_.send_to(asio::buffer(reply), client, 0, error);
    }
  }

  asio::io_context io_;
  udp::socket socket_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

std::string a_rdata(const std::string& ip) {
  const auto bytes = asio::ip::make_address_v4(ip).to_bytes();
  return std::string(bytes.begin(), bytes.end());
}

std::string srv_rdata(const std::string& target) {
  std::string out;
  put16(out, 10);    // priority
  put16(out, 5);     // weight
  put16(out, 5060);  // port (ignored by mpx)
  return out + encode_name(target);
}

Records scripted_records() {
  Records records;
  records[{"_sip._udp.d.test", kTypeSrv}] = {srv_rdata("d2.d.test"), srv_rdata("d1.d.test")};
  records[{"d2.d.test", kTypeA}] = {a_rdata("127.0.0.6"), a_rdata("127.0.0.5")};
  records[{"d1.d.test", kTypeA}] = {a_rdata("127.0.0.4")};
  records[{"plain.test", kTypeA}] = {a_rdata("192.0.2.44")};
  return records;
}

class RelayLinkLibresolv : public ::testing::Test {
 protected:
  ScriptedDnsServer server{scripted_records()};
  LibresolvDnsClient dns{server.endpoint()};
};

TEST_F(RelayLinkLibresolv, SrvTargetsInAnswerOrder) {
  auto targets = dns.srv_targets("_sip._udp.d.test");
  ASSERT_TRUE(targets.has_value()) << targets.error().message;
  EXPECT_EQ(targets.value(), (std::vector<std::string>{"d2.d.test", "d1.d.test"}));
}

TEST_F(RelayLinkLibresolv, ARecordsInAnswerOrder) {
  auto addresses = dns.a_records("d2.d.test");
  ASSERT_TRUE(addresses.has_value()) << addresses.error().message;
  ASSERT_EQ(addresses.value().size(), 2u);
  EXPECT_EQ(addresses.value()[0].to_string(), "127.0.0.6");
  EXPECT_EQ(addresses.value()[1].to_string(), "127.0.0.5");
}

TEST_F(RelayLinkLibresolv, AbsentNameIsEmptyAndServerFailureIsAnError) {
  auto absent = dns.a_records("nowhere.test");
  ASSERT_TRUE(absent.has_value()) << absent.error().message;
  EXPECT_TRUE(absent.value().empty());
  auto no_srv = dns.srv_targets("_sip._udp.plain.test");
  ASSERT_TRUE(no_srv.has_value()) << no_srv.error().message;
  EXPECT_TRUE(no_srv.value().empty());
  EXPECT_FALSE(dns.a_records("fail.test").has_value());
}

TEST_F(RelayLinkLibresolv, ResolveDispatcherEndToEnd) {
  auto via_srv = resolve_dispatcher({"d.test", 25070}, dns);
  ASSERT_TRUE(via_srv.has_value()) << via_srv.error().message;
  ASSERT_TRUE(via_srv.value().has_value());
  EXPECT_EQ(via_srv.value()->to_string(), "127.0.0.6:25070");

  auto via_a = resolve_dispatcher({"plain.test", 25060}, dns);
  ASSERT_TRUE(via_a.has_value()) << via_a.error().message;
  ASSERT_TRUE(via_a.value().has_value());
  EXPECT_EQ(via_a.value()->to_string(), "192.0.2.44:25060");
}

}  // namespace
}  // namespace mpx::relay::link
