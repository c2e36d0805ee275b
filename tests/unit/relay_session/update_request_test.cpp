// Decoding of update/remove headers (compat spec 3.3).
#include "relay/session/update_request.hpp"

#include "tests/unit/relay_session/session_fixture.hpp"

#include <gtest/gtest.h>

namespace mpx::relay::session {
namespace {

using test::make_remove;
using test::make_update;
using test::Message;

TEST(RelaySessionUpdateRequest, DecodesEveryHeader) {
  Message m;
  m.type = "reply";
  m.cseq = "4294967296";
  m.to_tag = "8d7f2a";
  m.media = "audio:192.0.2.20:30000:sendonly:ice=yes";
  auto r = decode_update(make_update(m));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const UpdateRequest& u = r.value();
  EXPECT_EQ(u.type, MessageType::reply);
  EXPECT_EQ(u.cseq, 4294967296U);
  EXPECT_EQ(u.call_id, "call-1");
  EXPECT_EQ(u.from_tag, "caller-tag");
  EXPECT_EQ(u.to_tag, "8d7f2a");
  EXPECT_EQ(u.from_uri, "alice@example.com");
  EXPECT_EQ(u.to_uri, "bob@example.net");
  EXPECT_EQ(u.user_agent, "caller-ua");
  EXPECT_EQ(u.signaling_ip, "198.51.100.7");
  ASSERT_EQ(u.media.size(), 1U);
  EXPECT_EQ(u.media[0].port, 30000);
  EXPECT_TRUE(u.media[0].ice());
}

TEST(RelaySessionUpdateRequest, MissingRequiredHeaderIsNamed) {
  for (const char* name : {"call_id", "from_tag", "from_uri", "to_uri", "cseq", "user_agent",
                           "type", "signaling_ip"}) {
    auto request = make_update(Message{});
    std::erase_if(request.headers, [&](const auto& h) { return h.name == name; });
    auto r = decode_update(request);
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().message, std::string{"update: missing header \""} + name + "\"");
  }
}

TEST(RelaySessionUpdateRequest, BadValuesAreErrors) {
  Message m;
  m.cseq = "1x";
  EXPECT_EQ(decode_update(make_update(m)).error().message,
            "update: header \"cseq\" is not a number: \"1x\"");
  m.cseq = "-1";
  EXPECT_FALSE(decode_update(make_update(m)).has_value());
  m = Message{};
  m.type = "response";
  EXPECT_EQ(decode_update(make_update(m)).error().message,
            "update: header \"type\" must be request or reply: \"response\"");
  m = Message{};
  m.media = "audio:192.0.2.20:70000:sendrecv:ice=no";
  auto r = decode_update(make_update(m));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.rfind("update: header \"media\": ", 0), 0U) << r.error().message;
}

TEST(RelaySessionUpdateRequest, Remove) {
  auto r = decode_remove(make_remove("c", "f", "t"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value().call_id, "c");
  EXPECT_EQ(r.value().from_tag, "f");
  EXPECT_EQ(r.value().to_tag, "t");
  EXPECT_FALSE(decode_remove(make_remove("c", "f")).value().to_tag);
  protocol::RelayRequest missing;
  missing.headers.push_back({"call_id", "c"});
  EXPECT_EQ(decode_remove(missing).error().message, "remove: missing header \"from_tag\"");
}

}  // namespace
}  // namespace mpx::relay::session
