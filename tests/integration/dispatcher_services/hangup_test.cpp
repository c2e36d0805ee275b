// The hang-up clients against real UNIX datagram servers that play OpenSIPS's mi_datagram and
// Kamailio's jsonrpcs: the exact request bytes, success, errors, the not-found retry with the
// Call-ID, the old plain error datagram, no answer (timeout), garbage, and socket set-up errors.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/datagram_protocol.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dispatcher/hangup/make_dialog_terminator.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/dispatcher_services/log_capture.hpp"

namespace mpx::dispatcher {
namespace {

namespace asio = boost::asio;
using Datagram = asio::local::datagram_protocol;
using namespace std::chrono_literals;
using testing::LogCapture;

// A proxy's RPC datagram socket: records every request and answers with what `respond` returns
// (zero or more datagrams) to the sender's address.
class FakeProxy {
 public:
  using Respond = std::function<std::vector<std::string>(const nlohmann::json& request)>;

  FakeProxy(asio::io_context& io, const std::filesystem::path& path, Respond respond)
      : socket_(io, Datagram::endpoint(path.string())), respond_(std::move(respond)) {
    receive();
  }

  std::vector<std::string> requests;

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buffer_), sender_,
                               [this](const boost::system::error_code& ec, std::size_t size) {
                                 if (ec) {
                                   return;
                                 }
                                 requests.emplace_back(buffer_.data(), size);
                                 const auto request =
                                     nlohmann::json::parse(requests.back(), nullptr, false);
                                 for (const auto& reply : respond_(request)) {
                                   boost::system::error_code ignored;
                                   socket_.send_to(asio::buffer(reply), sender_, 0, ignored);
                                 }
                                 receive();
                               });
  }

  Datagram::socket socket_;
  Respond respond_;
  std::array<char, 65536> buffer_{};
  Datagram::endpoint sender_;
};

std::string id_of(const nlohmann::json& request) {
  return request.is_object() && request.contains("id") && request["id"].is_string()
             ? request["id"].get<std::string>()
             : std::string("?");
}

std::string id_of(const std::string& request_bytes) {
  return id_of(nlohmann::json::parse(request_bytes, nullptr, false));
}

// The request bytes MediaProxy's Python would send (json.dumps default separators).
std::string expected_request(const std::string& id, const std::string& method,
                             const std::string& params_json) {
  return R"({"jsonrpc": "2.0", "id": ")" + id + R"(", "method": ")" + method +
         R"(", "params": )" + params_json + "}";
}

void expect_hex_id(const std::string& id) {
  EXPECT_FALSE(id.empty());
  EXPECT_LE(id.size(), 8U);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

class HangupTest : public ::testing::Test {
 protected:
  std::filesystem::path proxy_path() const { return dir_.path() / "proxy.sock"; }
  std::filesystem::path reply_path() const { return dir_.path() / "opensips.sock"; }

  std::unique_ptr<DialogTerminator> make(SipProxyKind kind,
                                         std::chrono::milliseconds timeout = 3000ms) {
    DialogTerminatorSettings settings;
    settings.proxy_socket = proxy_path();
    settings.reply_socket = reply_path();
    settings.reply_timeout = timeout;
    auto terminator = make_dialog_terminator(kind, io_.get_executor(), settings);
    EXPECT_TRUE(terminator.has_value()) << terminator.error().message;
    return std::move(terminator).value();
  }

  // Runs the io_context until `done` holds or `limit` passes; returns whether it held.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      io_.restart();
      io_.run_for(5ms);
    }
    return true;
  }

  void settle(std::chrono::milliseconds time) {
    io_.restart();
    io_.run_for(time);
  }

  mpx::test::TempDir dir_{"mpx-hangup"};
  asio::io_context io_;
  LogCapture log_;
};

std::string opensips_ok(const nlohmann::json& request) {
  return R"({"jsonrpc":  "2.0","result": "OK","id": ")" + id_of(request) + R"("})";
}

std::string opensips_not_found(const nlohmann::json& request) {
  return R"({"jsonrpc": "2.0","error": {"code": 404, "message": "Requested Dialog not found"},"id": ")" +
         id_of(request) + R"("})";
}

TEST_F(HangupTest, OpensipsGetsTheDialogsOwnIdAndSucceeds) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    return std::vector<std::string>{opensips_ok(request)};
  });
  auto terminator = make(SipProxyKind::opensips);
  terminator->end_dialog("5063766441986", "call-1@example.com");
  ASSERT_TRUE(run_until([&] { return log_.contains("ended dialog"); })) << log_.text();
  ASSERT_EQ(proxy.requests.size(), 1U);
  const auto id = id_of(proxy.requests[0]);
  expect_hex_id(id);
  EXPECT_EQ(proxy.requests[0], expected_request(id, "dlg_end_dlg", R"(["49b.2"])"));
  EXPECT_TRUE(log_.contains(
      "info OpenSIPS MI: ended dialog 49b.2 (dialog_id 5063766441986, Call-ID call-1@example.com)"))
      << log_.text();
  EXPECT_TRUE(log_.quiet()) << log_.text();
}

TEST_F(HangupTest, OpensipsNotFoundIsRetriedWithTheCallId) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    const bool by_did = request["params"][0] == "49b.2";
    return std::vector<std::string>{by_did ? opensips_not_found(request) : opensips_ok(request)};
  });
  auto terminator = make(SipProxyKind::opensips);
  terminator->end_dialog("5063766441986", "call-1@example.com");
  ASSERT_TRUE(run_until([&] { return log_.contains("by Call-ID"); })) << log_.text();
  ASSERT_EQ(proxy.requests.size(), 2U);
  EXPECT_EQ(proxy.requests[0],
            expected_request(id_of(proxy.requests[0]), "dlg_end_dlg", R"(["49b.2"])"));
  EXPECT_EQ(proxy.requests[1], expected_request(id_of(proxy.requests[1]), "dlg_end_dlg",
                                                R"(["call-1@example.com"])"));
  EXPECT_TRUE(log_.contains("warning OpenSIPS MI: dialog 49b.2 (dialog_id 5063766441986) not "
                            "found (error 404 Requested Dialog not found); retrying with Call-ID "
                            "call-1@example.com"))
      << log_.text();
  EXPECT_TRUE(log_.contains(
      "info OpenSIPS MI: ended dialog 5063766441986 by Call-ID call-1@example.com"))
      << log_.text();
}

TEST_F(HangupTest, OpensipsNotFoundTwiceIsLoggedAsAnError) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    return std::vector<std::string>{opensips_not_found(request)};
  });
  auto terminator = make(SipProxyKind::opensips);
  terminator->end_dialog("5063766441986", "call-1");
  ASSERT_TRUE(run_until([&] { return log_.contains("error OpenSIPS MI"); })) << log_.text();
  settle(50ms);
  EXPECT_EQ(proxy.requests.size(), 2U);  // no retry loop
  EXPECT_TRUE(log_.contains("error OpenSIPS MI: dlg_end_dlg for Call-ID call-1 (dialog_id "
                            "5063766441986) failed: error 404 Requested Dialog not found"))
      << log_.text();
}

TEST_F(HangupTest, OpensipsOtherErrorIsLoggedWithoutRetry) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    return std::vector<std::string>{
        R"({"jsonrpc": "2.0","error": {"code": 500, "message": "Operation failed"},"id": ")" +
        id_of(request) + R"("})"};
  });
  auto terminator = make(SipProxyKind::opensips);
  terminator->end_dialog("4294967298", "call-2");
  ASSERT_TRUE(run_until([&] { return log_.contains("error OpenSIPS MI"); })) << log_.text();
  settle(50ms);
  ASSERT_EQ(proxy.requests.size(), 1U);
  EXPECT_EQ(proxy.requests[0],
            expected_request(id_of(proxy.requests[0]), "dlg_end_dlg", R"(["1.2"])"));
  EXPECT_TRUE(log_.contains("error OpenSIPS MI: dlg_end_dlg 1.2 (dialog_id 4294967298, Call-ID "
                            "call-2) failed: error 500 Operation failed"))
      << log_.text();
}

TEST_F(HangupTest, PlainErrorDatagramAppliesToTheOnlyPendingRequest) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    if (request["params"][0] == "49b.2") {
      return std::vector<std::string>{"404 Requested Dialog not found\n"};
    }
    return std::vector<std::string>{opensips_ok(request)};
  });
  auto terminator = make(SipProxyKind::opensips);
  terminator->end_dialog("5063766441986", "call-3");
  ASSERT_TRUE(run_until([&] { return log_.contains("by Call-ID call-3"); })) << log_.text();
  EXPECT_EQ(proxy.requests.size(), 2U);
}

TEST_F(HangupTest, PlainErrorDatagramIsIgnoredWhenSeveralRequestsArePending) {
  int seen = 0;
  FakeProxy proxy(io_, proxy_path(), [&](const nlohmann::json&) {
    // Answer only once both requests are pending, with an ambiguous plain error.
    return ++seen == 2 ? std::vector<std::string>{"500 Server error"}
                       : std::vector<std::string>{};
  });
  auto terminator = make(SipProxyKind::opensips, 300ms);
  terminator->end_dialog("1", "a");
  terminator->end_dialog("2", "b");
  ASSERT_TRUE(run_until([&] { return log_.contains("cannot match it"); })) << log_.text();
  EXPECT_TRUE(log_.contains(
      "warning OpenSIPS MI: ignoring error datagram '500 Server error': 2 requests pending"))
      << log_.text();
  // Both then time out on their own.
  ASSERT_TRUE(run_until([&] {
    const auto text = log_.text();
    return text.find("no answer from OpenSIPS within 300 ms") != text.rfind(
                                                                       "no answer from OpenSIPS within 300 ms");
  })) << log_.text();
}

TEST_F(HangupTest, NoAnswerTimesOutAndIsLogged) {
  FakeProxy proxy(io_, proxy_path(),
                  [](const nlohmann::json&) { return std::vector<std::string>{}; });
  auto terminator = make(SipProxyKind::opensips, 200ms);
  const auto start = std::chrono::steady_clock::now();
  terminator->end_dialog("5063766441986", "call-4");
  ASSERT_TRUE(run_until([&] { return log_.contains("no answer"); })) << log_.text();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
  EXPECT_TRUE(log_.contains("error OpenSIPS MI: dlg_end_dlg 49b.2 (dialog_id 5063766441986, "
                            "Call-ID call-4) failed: no answer from OpenSIPS within 200 ms"))
      << log_.text();
  EXPECT_EQ(proxy.requests.size(), 1U);
}

TEST_F(HangupTest, DefaultReplyTimeoutIsThreeSeconds) {
  FakeProxy proxy(io_, proxy_path(),
                  [](const nlohmann::json&) { return std::vector<std::string>{}; });
  auto terminator = make(SipProxyKind::opensips);
  terminator->end_dialog("7", "call-3s");
  settle(2500ms);
  EXPECT_FALSE(log_.contains("no answer")) << log_.text();
  ASSERT_TRUE(run_until([&] { return log_.contains("no answer from OpenSIPS within 3000 ms"); },
                        2000ms))
      << log_.text();
}

TEST_F(HangupTest, GarbageReplyIsLoggedAndTheRequestTimesOut) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    return std::vector<std::string>{
        std::string("\x01\x02garbage{", 10),
        R"({"jsonrpc": "2.0", "result": "OK", "id": "not-ours"})",
        R"({"jsonrpc": "2.0", "result": "OK"})",
        R"({"jsonrpc": "2.0", "id": ")" + id_of(request) + R"(", "unexpected": 1})"};
  });
  auto terminator = make(SipProxyKind::opensips, 300ms);
  terminator->end_dialog("5063766441986", "call-5");
  ASSERT_TRUE(run_until([&] { return log_.contains("error OpenSIPS MI"); })) << log_.text();
  EXPECT_TRUE(log_.contains(
      R"(warning OpenSIPS MI: ignoring reply that is not JSON: '\x01\x02garbage{')"))
      << log_.text();
  EXPECT_TRUE(log_.contains(
      "warning OpenSIPS MI: ignoring reply to unknown or expired request id not-ours"))
      << log_.text();
  EXPECT_TRUE(log_.contains("warning OpenSIPS MI: ignoring reply without an id")) << log_.text();
  EXPECT_TRUE(log_.contains("failed: error reply has neither result nor error")) << log_.text();
}

TEST_F(HangupTest, GarbageOnlyReplyEndsInTimeout) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json&) {
    return std::vector<std::string>{"<html>nope</html>"};
  });
  auto terminator = make(SipProxyKind::opensips, 200ms);
  terminator->end_dialog("5063766441986", "call-6");
  ASSERT_TRUE(run_until([&] { return log_.contains("no answer"); })) << log_.text();
  EXPECT_TRUE(log_.contains("ignoring reply that is not JSON: '<html>nope</html>'")) << log_.text();
}

TEST_F(HangupTest, NonNumericOpensipsDialogIdGoesStraightToTheCallId) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    return std::vector<std::string>{opensips_ok(request)};
  });
  auto terminator = make(SipProxyKind::opensips);
  terminator->end_dialog("abc", "call-7");
  ASSERT_TRUE(run_until([&] { return log_.contains("info OpenSIPS MI: ended dialog abc by "
                                                   "Call-ID call-7"); }))
      << log_.text();
  ASSERT_EQ(proxy.requests.size(), 1U);
  EXPECT_EQ(proxy.requests[0],
            expected_request(id_of(proxy.requests[0]), "dlg_end_dlg", R"(["call-7"])"));
  EXPECT_TRUE(log_.contains("warning OpenSIPS MI: OpenSIPS dialog_id 'abc' is not a decimal "
                            "number; ending the dialog by Call-ID call-7"))
      << log_.text();
}

TEST_F(HangupTest, OpensipsColonDialogIdIsConvertedToo) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    return std::vector<std::string>{opensips_ok(request)};
  });
  auto terminator = make(SipProxyKind::opensips);
  terminator->end_dialog("1179:2", "call-9");
  ASSERT_TRUE(run_until([&] { return log_.contains("ended dialog 49b.2"); })) << log_.text();
  ASSERT_EQ(proxy.requests.size(), 1U);
  EXPECT_EQ(proxy.requests[0],
            expected_request(id_of(proxy.requests[0]), "dlg_end_dlg", R"(["49b.2"])"));
}

TEST_F(HangupTest, MissingProxySocketIsLogged) {
  auto terminator = make(SipProxyKind::opensips, 500ms);
  terminator->end_dialog("5063766441986", "call-8");
  ASSERT_TRUE(run_until([&] { return log_.contains("error OpenSIPS MI"); })) << log_.text();
  EXPECT_TRUE(log_.contains("failed: cannot send to OpenSIPS socket " + proxy_path().string()))
      << log_.text();
  EXPECT_FALSE(log_.contains("no answer")) << log_.text();
}

TEST_F(HangupTest, ReplySocketReplacesAStaleOneAndIsRemovedAtTheEnd) {
  {
    // A stale socket file left by an earlier run.
    Datagram::socket stale(io_, Datagram::endpoint(reply_path().string()));
  }
  ASSERT_TRUE(std::filesystem::is_socket(reply_path()));
  auto terminator = make(SipProxyKind::opensips);
  EXPECT_TRUE(std::filesystem::is_socket(reply_path()));
  terminator.reset();
  settle(20ms);
  EXPECT_FALSE(std::filesystem::exists(reply_path()));
}

TEST_F(HangupTest, ReplySocketPathThatIsNotASocketIsRefused) {
  std::ofstream(reply_path()) << "precious";
  DialogTerminatorSettings settings;
  settings.proxy_socket = proxy_path();
  settings.reply_socket = reply_path();
  const auto terminator = make_dialog_terminator(SipProxyKind::kamailio, io_.get_executor(),
                                                 settings);
  ASSERT_FALSE(terminator.has_value());
  EXPECT_EQ(terminator.error().message, "Kamailio MI: reply socket path " + reply_path().string() +
                                            " exists and is not a socket");
  EXPECT_TRUE(std::filesystem::is_regular_file(reply_path()));
  settings.reply_socket = dir_.path() / std::string(120, 'x');
  EXPECT_FALSE(make_dialog_terminator(SipProxyKind::opensips, io_.get_executor(), settings)
                   .has_value());
  settings.reply_socket = dir_.path() / "missing-dir" / "r.sock";
  const auto unbindable =
      make_dialog_terminator(SipProxyKind::opensips, io_.get_executor(), settings);
  ASSERT_FALSE(unbindable.has_value());
  EXPECT_NE(unbindable.error().message.find("cannot bind reply socket"), std::string::npos);
}

TEST_F(HangupTest, KamailioGetsEntryAndIdAsIntegers) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    return std::vector<std::string>{R"({"jsonrpc":"2.0","result":{},"id":")" + id_of(request) +
                                    R"("})"};
  });
  auto terminator = make(SipProxyKind::kamailio);
  terminator->end_dialog("1179:2", "call-k1");
  ASSERT_TRUE(run_until([&] { return log_.contains("ended dialog"); })) << log_.text();
  ASSERT_EQ(proxy.requests.size(), 1U);
  const auto id = id_of(proxy.requests[0]);
  expect_hex_id(id);
  EXPECT_EQ(proxy.requests[0], expected_request(id, "dlg.end_dlg", "[1179, 2]"));
  EXPECT_TRUE(log_.contains("info Kamailio RPC: ended dialog 1179:2 (Call-ID call-k1)"))
      << log_.text();
  EXPECT_TRUE(log_.quiet()) << log_.text();
}

TEST_F(HangupTest, KamailioErrorIsLogged) {
  FakeProxy proxy(io_, proxy_path(), [](const nlohmann::json& request) {
    return std::vector<std::string>{
        "{\n\t\"jsonrpc\":\t\"2.0\",\n\t\"error\":\t{\n\t\t\"code\":\t404,\n\t\t\"message\":\t\"Dialog "
        "not found\"\n\t},\n\t\"id\":\t\"" +
        id_of(request) + "\"\n}"};  // pretty_format = 1
  });
  auto terminator = make(SipProxyKind::kamailio);
  terminator->end_dialog("4294967295:7", "call-k2");
  ASSERT_TRUE(run_until([&] { return log_.contains("error Kamailio"); })) << log_.text();
  settle(50ms);
  ASSERT_EQ(proxy.requests.size(), 1U);
  EXPECT_EQ(proxy.requests[0],
            expected_request(id_of(proxy.requests[0]), "dlg.end_dlg", "[4294967295, 7]"));
  EXPECT_TRUE(log_.contains("error Kamailio RPC: dlg.end_dlg 4294967295:7 (Call-ID call-k2) "
                            "failed: error 404 Dialog not found"))
      << log_.text();
}

TEST_F(HangupTest, KamailioBadDialogIdIsLoggedAndNothingIsSent) {
  FakeProxy proxy(io_, proxy_path(),
                  [](const nlohmann::json&) { return std::vector<std::string>{}; });
  auto terminator = make(SipProxyKind::kamailio);
  terminator->end_dialog("5063766441986", "call-k3");
  settle(50ms);
  EXPECT_TRUE(proxy.requests.empty());
  EXPECT_TRUE(log_.contains("error Kamailio RPC: cannot end the dialog of Call-ID call-k3: "
                            "Kamailio dialog_id '5063766441986' is not h_entry:h_id (no ':')"))
      << log_.text();
}

TEST_F(HangupTest, KamailioNoAnswerTimesOut) {
  FakeProxy proxy(io_, proxy_path(),
                  [](const nlohmann::json&) { return std::vector<std::string>{}; });
  auto terminator = make(SipProxyKind::kamailio, 200ms);
  terminator->end_dialog("1:2", "call-k4");
  ASSERT_TRUE(run_until([&] { return log_.contains("no answer from Kamailio within 200 ms"); }))
      << log_.text();
}

TEST_F(HangupTest, DisabledTerminatorOnlyLogs) {
  FakeProxy proxy(io_, proxy_path(),
                  [](const nlohmann::json&) { return std::vector<std::string>{}; });
  auto terminator = make(SipProxyKind::none);
  terminator->end_dialog("1:2", "call-n");
  settle(20ms);
  EXPECT_TRUE(proxy.requests.empty());
  EXPECT_FALSE(std::filesystem::exists(reply_path()));
  EXPECT_TRUE(log_.contains("dialog termination disabled: not ending dialog 1:2 (Call-ID call-n)"))
      << log_.text();
}

}  // namespace
}  // namespace mpx::dispatcher
