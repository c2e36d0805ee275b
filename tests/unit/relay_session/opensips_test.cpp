// Real OpenSIPS 3.4 request sequences (tests/unit/protocol/testdata/opensips-3.4/) through the
// dispatcher's protocol A parser (which drops empty-valued headers) and the session manager.
#include "tests/unit/relay_session/session_fixture.hpp"

#include "common/protocol/module_request.hpp"
#include "tests/support/subprocess.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace mpx::relay::session::test {
namespace {

protocol::RelayRequest load(const std::string& scenario, const std::string& file) {
  const std::string path =
      mpx::test::source_path("tests/unit/protocol/testdata/opensips-3.4/" + scenario + "/" + file);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  protocol::ModuleRequestParser parser;
  parser.feed(bytes.str());
  auto step = parser.next();
  auto* request = std::get_if<protocol::ModuleRequest>(&step);
  if (request == nullptr) {
    ADD_FAILURE() << "no request in " << path;
    return {};
  }
  // The dispatcher forwards the module's lines verbatim (spec 2.4).
  return protocol::RelayRequest{request->command, 1, request->headers};
}

TEST_F(RelaySessionTest, OpenSipsEngageMediaProxy) {
  auto invite = manager_.update(load("engage_media_proxy", "1-INVITE-update-request.req"),
                                "dispatcher-1", at(0));
  ASSERT_TRUE(invite.has_value()) << invite.error().message;
  EXPECT_EQ(invite.value().payload(), "203.0.113.5 40002");
  auto ok = manager_.update(load("engage_media_proxy", "2-200OK-update-reply.req"),
                            "dispatcher-1", at(1));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok.value().payload(), "203.0.113.5 40000");
  auto bye = manager_.remove(load("engage_media_proxy", "3-BYE-remove.req"), at(4));
  ASSERT_TRUE(bye.has_value()) << bye.error().message;
  const auto& stats = bye.value().statistics;
  EXPECT_EQ(stats.call_id, "1-20052@127.0.0.1");
  EXPECT_EQ(stats.from_tag, "20052SIPpTag091");
  EXPECT_EQ(stats.to_tag, "20047SIPpTag011");
  EXPECT_EQ(stats.from_uri, "sipp@127.0.0.1:5061");
  EXPECT_EQ(stats.to_uri, "service@127.0.0.1:5060");
  EXPECT_EQ(stats.caller_ua, "sipp-harness-uac");
  EXPECT_EQ(stats.callee_ua, "sipp-harness-uas");
  EXPECT_EQ(stats.duration, 3);
  ASSERT_EQ(stats.streams.size(), 1U);
  EXPECT_EQ(stats.streams[0].status, "closed");
  EXPECT_EQ(pool_.in_use_count(), 0U);
}

TEST_F(RelaySessionTest, OpenSipsUseMediaProxy) {
  ASSERT_EQ(manager_.update(load("use_media_proxy", "1-INVITE-update-request.req"), "d", at(0))
                .value()
                .payload(),
            "203.0.113.5 40002");
  ASSERT_EQ(manager_.update(load("use_media_proxy", "2-200OK-update-reply.req"), "d", at(1))
                .value()
                .payload(),
            "203.0.113.5 40000");
  auto bye = manager_.remove(load("use_media_proxy", "3-BYE-remove.req"), at(2));
  ASSERT_TRUE(bye.has_value()) << bye.error().message;
  EXPECT_EQ(bye.value().statistics.to_tag, "15488SIPpTag011");
  EXPECT_EQ(manager_.session_count(), 0U);
}

TEST_F(RelaySessionTest, OpenSipsMultistream) {
  // audio, video sendonly (hold), image with port 0.
  auto invite =
      manager_.update(load("multistream", "1-INVITE-update-request.req"), "d", at(0));
  ASSERT_TRUE(invite.has_value()) << invite.error().message;
  EXPECT_EQ(invite.value().payload(), "203.0.113.5 40002 40006 0");
  const auto opened_actions = actions_of<StreamOpened>(invite.value().actions);
  ASSERT_EQ(opened_actions.size(), 2U);
  EXPECT_EQ(actions_of<HoldChanged>(invite.value().actions),
            (std::vector<HoldChanged>{{opened_actions[1].id, true}}));
  // The answer only has audio: video is rejected, image was closed by the offer.
  auto ok = manager_.update(load("multistream", "2-200OK-update-reply.req"), "d", at(1));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok.value().payload(), "203.0.113.5 40000 0 0");
  auto bye = manager_.remove(load("multistream", "3-BYE-remove.req"), at(2));
  ASSERT_TRUE(bye.has_value()) << bye.error().message;
  const auto& streams = bye.value().statistics.streams;
  ASSERT_EQ(streams.size(), 3U);
  EXPECT_EQ(streams[0].status, "closed");
  EXPECT_EQ(streams[1].media_type, "video");
  EXPECT_EQ(streams[1].status, "rejected");
  EXPECT_EQ(streams[2].media_type, "image");
  EXPECT_EQ(streams[2].status, "closed");
  EXPECT_EQ(pool_.in_use_count(), 0U);
}

}  // namespace
}  // namespace mpx::relay::session::test
