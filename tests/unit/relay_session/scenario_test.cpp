// The call scenarios of MediaProxy's test suite (compat spec 9) and the spec 2.8 worked example,
// played through the SessionManager the way the dispatcher forwards OpenSIPS' updates.
#include "tests/unit/relay_session/session_fixture.hpp"

#include "common/protocol/session_statistics.hpp"

#include <gtest/gtest.h>

namespace mpx::relay::session::test {
namespace {

constexpr const char* kCallerAudio = "audio:192.168.1.10:50000:sendrecv:ice=no";
constexpr const char* kCallerVideo = "video:192.168.1.10:50002:sendrecv:ice=no";
constexpr const char* kCalleeAudio = "audio:192.0.2.20:30000:sendrecv:ice=no";
constexpr const char* kCalleeVideo = "video:192.0.2.20:30002:sendrecv:ice=no";

Message invite(std::string media, std::string cseq = "1") {
  Message m;
  m.media = std::move(media);
  m.cseq = std::move(cseq);
  return m;
}

// A reply from the callee to a caller request; provisional replies carry no to_tag.
Message reply(std::string media, std::string cseq = "1", std::string to_tag = "callee-tag") {
  Message m;
  m.type = "reply";
  m.cseq = std::move(cseq);
  m.to_tag = std::move(to_tag);
  m.user_agent = "callee-ua";
  m.signaling_ip = "192.0.2.20";
  m.media = std::move(media);
  return m;
}

// A request from the callee inside the dialog: tags swapped.
Message callee_request(std::string media, std::string cseq) {
  Message m;
  m.from_tag = "callee-tag";
  m.to_tag = "caller-tag";
  m.user_agent = "callee-ua";
  m.signaling_ip = "192.0.2.20";
  m.cseq = std::move(cseq);
  m.media = std::move(media);
  return m;
}

// The caller's reply to a callee request: tags as in the request.
Message caller_reply(std::string media, std::string cseq) {
  Message m = callee_request(std::move(media), std::move(cseq));
  m.type = "reply";
  m.user_agent = "caller-ua";
  m.signaling_ip = "198.51.100.7";
  return m;
}

std::string join(std::initializer_list<const char*> parts) {
  std::string out;
  for (const char* p : parts) {
    out += out.empty() ? "" : ",";
    out += p;
  }
  return out;
}

TEST_F(RelaySessionTest, SpecWorkedExample) {
  Message inv;
  inv.call_id = "7a9f3c2e@192.168.1.10";
  inv.from_tag = "a73kszlfl";
  inv.user_agent = "Blink 5.1";
  inv.media = join({kCallerAudio, kCallerVideo});
  EXPECT_EQ(update(inv, 0), "203.0.113.5 40002 40006");
  const auto streams = opened();
  ASSERT_EQ(streams.size(), 2U);
  const auto opened_actions = actions_of<StreamOpened>(last_actions_);
  EXPECT_EQ(opened_actions[0].caller_local, (Endpoint{ip(kRelayIp), 40000}));
  EXPECT_EQ(opened_actions[0].callee_local, (Endpoint{ip(kRelayIp), 40002}));
  EXPECT_EQ(opened_actions[0].offerer, Party::caller);
  EXPECT_EQ(opened_actions[0].offerer_sdp, (Endpoint{ip("192.168.1.10"), 50000}));
  EXPECT_EQ(opened_actions[1].caller_local.port, 40004);
  EXPECT_EQ(opened_actions[1].callee_local.port, 40006);

  Message ok = inv;
  ok.type = "reply";
  ok.to_tag = "8d7f2a";
  ok.user_agent = "Asterisk PBX";
  ok.signaling_ip = "192.0.2.20";
  ok.media = join({kCalleeAudio, kCalleeVideo});
  EXPECT_EQ(update(ok, 2.5), "203.0.113.5 40000 40004");
  EXPECT_EQ(actions_of<PartySdpAccepted>(last_actions_).size(), 2U);

  manager_.media_seen(streams[0], Party::caller, std::uint8_t{0}, at(2.25));
  manager_.media_seen(streams[0], Party::callee, std::uint8_t{0}, at(2.75));
  traffic_[streams[0]] = StreamTraffic{4210560, 4207120, 15040, 15025,
                                       Endpoint{ip("198.51.100.7"), 50000},
                                       Endpoint{ip("192.0.2.20"), 30000}};

  auto removed = manager_.remove(make_remove(inv.call_id, "a73kszlfl", "8d7f2a"), at(314.5));
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_EQ(
      removed.value().payload(),
      R"({"call_id": "7a9f3c2e@192.168.1.10", "from_tag": "a73kszlfl", )"
      R"("from_uri": "alice@example.com", "to_tag": "8d7f2a", "to_uri": "bob@example.net", )"
      R"("start_time": 1795521602.5, "duration": 312, "caller_ua": "Blink 5.1", )"
      R"("callee_ua": "Asterisk PBX", "username": null, "streams": [)"
      R"({"media_type": "audio", "status": "closed", "timeout_wait": 0, )"
      R"("caller_codec": "G711u", "callee_codec": "G711u", "start_time": 0, "end_time": 312, )"
      R"("post_dial_delay": 2.25, "caller_bytes": 4210560, "callee_bytes": 4207120, )"
      R"("caller_packets": 15040, "callee_packets": 15025, "caller_local": "203.0.113.5:40000", )"
      R"("callee_local": "203.0.113.5:40002", "caller_remote": "198.51.100.7:50000", )"
      R"("callee_remote": "192.0.2.20:30000"}, )"
      R"({"media_type": "video", "status": "closed", "timeout_wait": 0, )"
      R"("caller_codec": "Unknown", "callee_codec": "Unknown", "start_time": 0, "end_time": 312, )"
      R"("post_dial_delay": null, "caller_bytes": 0, "callee_bytes": 0, )"
      R"("caller_packets": 0, "callee_packets": 0, "caller_local": "203.0.113.5:40004", )"
      R"("callee_local": "203.0.113.5:40006", "caller_remote": "Unknown", )"
      R"("callee_remote": "Unknown"}]})");
  EXPECT_EQ(actions_of<StreamClosed>(removed.value().actions),
            (std::vector<StreamClosed>{{streams[0], "closed"}, {streams[1], "closed"}}));
  EXPECT_EQ(pool_.in_use_count(), 0U);
  EXPECT_EQ(manager_.session_count(), 0U);
}

TEST_F(RelaySessionTest, NormalCall) {
  EXPECT_EQ(update(invite(kCallerAudio), 0), "203.0.113.5 40002");
  EXPECT_EQ(update(reply(kCalleeAudio), 1), "203.0.113.5 40000");
  const Session* session = manager_.find_session("call-1", "caller-tag", std::nullopt);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->to_tag(), "callee-tag");
  EXPECT_EQ(pool_.in_use_count(), 2U);

  auto stats = remove("call-1", "caller-tag", "callee-tag", 61);
  EXPECT_EQ(stats.to_tag, "callee-tag");
  EXPECT_EQ(stats.caller_ua, "caller-ua");
  EXPECT_EQ(stats.callee_ua, "callee-ua");
  EXPECT_EQ(stats.duration, 60);
  ASSERT_EQ(stats.streams.size(), 1U);
  EXPECT_EQ(stats.streams[0].status, "closed");
  EXPECT_EQ(stats.streams[0].end_time, 60);
  EXPECT_EQ(pool_.in_use_count(), 0U);
  EXPECT_EQ(released_, (std::vector<std::uint16_t>{40000, 40002}));
  auto again = manager_.remove(make_remove("call-1", "caller-tag", "callee-tag"), at(62));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().message, "remove: no session for call_id \"call-1\"");
}

TEST_F(RelaySessionTest, AckWithSdpConfirmsTheAnswer) {
  update(invite(kCallerAudio), 0);
  update(reply(kCalleeAudio), 1);
  Message ack = invite(kCallerAudio);  // ACK: same CSeq number, caller side: an answer
  ack.to_tag = "callee-tag";
  EXPECT_EQ(update(ack, 1.1), "203.0.113.5 40002");
  EXPECT_TRUE(last_actions_.empty());
}

TEST_F(RelaySessionTest, LateOfferInTheOkAnswerInTheAck) {
  // INVITE without SDP: the module sends nothing. The 200 OK carries the offer.
  EXPECT_EQ(update(reply(kCalleeAudio), 1), "203.0.113.5 40000");
  auto opened_actions = actions_of<StreamOpened>(last_actions_);
  ASSERT_EQ(opened_actions.size(), 1U);
  EXPECT_EQ(opened_actions[0].offerer, Party::callee);
  Message ack = invite(kCallerAudio);
  ack.to_tag = "callee-tag";
  EXPECT_EQ(update(ack, 1.5), "203.0.113.5 40002");
  EXPECT_EQ(actions_of<PartySdpAccepted>(last_actions_),
            (std::vector<PartySdpAccepted>{
                {opened_actions[0].id, Party::caller, Endpoint{ip("192.168.1.10"), 50000}}}));
  auto stats = remove("call-1", "caller-tag", "callee-tag", 11.5);
  EXPECT_EQ(stats.from_tag, "caller-tag");
  EXPECT_EQ(stats.to_tag, "callee-tag");
  EXPECT_EQ(stats.callee_ua, "callee-ua");
  EXPECT_EQ(stats.caller_ua, "caller-ua");
  EXPECT_EQ(stats.duration, 10);
  ASSERT_EQ(stats.streams.size(), 1U);
}

TEST_F(RelaySessionTest, ThreeStreamsTwoRejectedByPortZero) {
  EXPECT_EQ(update(invite(join({kCallerAudio, kCallerVideo,
                                "image:192.168.1.10:50004:sendrecv:ice=no"})),
                   0),
            "203.0.113.5 40002 40006 40010");
  const auto ids = opened();
  ASSERT_EQ(ids.size(), 3U);
  EXPECT_EQ(update(reply(join({kCalleeAudio, "video:192.0.2.20:0:sendrecv:ice=no",
                               "image:192.0.2.20:0:sendrecv:ice=no"})),
                   2),
            "203.0.113.5 40000 0 0");
  EXPECT_EQ(actions_of<StreamClosed>(last_actions_),
            (std::vector<StreamClosed>{{ids[1], "rejected"}, {ids[2], "rejected"}}));
  EXPECT_EQ(pool_.in_use_count(), 2U);
  EXPECT_EQ(manager_.counts().load, 1U);
  auto stats = remove("call-1", "caller-tag", "callee-tag", 32);
  ASSERT_EQ(stats.streams.size(), 3U);
  EXPECT_EQ(stats.streams[0].status, "closed");
  EXPECT_EQ(stats.streams[0].end_time, 30);
  EXPECT_EQ(stats.streams[1].status, "rejected");
  EXPECT_EQ(stats.streams[1].end_time, stats.streams[1].start_time);
  EXPECT_EQ(stats.streams[2].media_type, "image");
  EXPECT_EQ(stats.streams[2].status, "rejected");
}

TEST_F(RelaySessionTest, FewerMlinesInTheAnswerRejectTheRest) {
  update(invite(join({kCallerAudio, kCallerVideo})), 0);
  const auto ids = opened();
  EXPECT_EQ(update(reply(kCalleeAudio), 1), "203.0.113.5 40000 0");
  EXPECT_EQ(actions_of<StreamClosed>(last_actions_),
            (std::vector<StreamClosed>{{ids[1], "rejected"}}));
}

TEST_F(RelaySessionTest, OfferWithAPortZeroStream) {
  EXPECT_EQ(update(invite(join({kCallerAudio, "video:192.168.1.10:0:sendrecv:ice=no"})), 0),
            "203.0.113.5 40002 0");
  EXPECT_EQ(opened().size(), 1U);  // the closed stream gets no ports
  EXPECT_EQ(pool_.in_use_count(), 2U);
  EXPECT_EQ(update(reply(join({kCalleeAudio, "video:192.0.2.20:0:sendrecv:ice=no"})), 1),
            "203.0.113.5 40000 0");
  auto stats = remove("call-1", "caller-tag", "callee-tag", 5);
  ASSERT_EQ(stats.streams.size(), 2U);
  EXPECT_EQ(stats.streams[1].media_type, "video");
  EXPECT_EQ(stats.streams[1].status, "closed");
  EXPECT_EQ(stats.streams[1].caller_local, "203.0.113.5:0");
}

TEST_F(RelaySessionTest, 183Then200WithANewPortResetsTheCallee) {
  update(invite(kCallerAudio), 0);
  const auto id = opened().at(0);
  EXPECT_EQ(update(reply(kCalleeAudio, "1", ""), 1), "203.0.113.5 40000");  // 183
  EXPECT_EQ(actions_of<PartySdpAccepted>(last_actions_),
            (std::vector<PartySdpAccepted>{{id, Party::callee, {ip("192.0.2.20"), 30000}}}));
  EXPECT_EQ(update(reply("audio:192.0.2.20:30002:sendrecv:ice=no"), 4), "203.0.113.5 40000");
  EXPECT_EQ(last_actions_,
            (Actions{PartyReset{id, Party::callee, {ip("192.0.2.20"), 30002}}}));
  EXPECT_EQ(pool_.in_use_count(), 2U);  // same relay ports
  auto stats = remove("call-1", "caller-tag", "callee-tag", 11);
  // The first answer (the 183) starts the call.
  EXPECT_EQ(stats.start_time, 1795521601.0);
  EXPECT_EQ(stats.duration, 10);
}

TEST_F(RelaySessionTest, Two183sFromDifferentGateways) {
  update(invite(kCallerAudio), 0);
  const auto id = opened().at(0);
  update(reply("audio:192.0.2.20:30000:sendrecv:ice=no", "1", ""), 1);
  EXPECT_EQ(update(reply("audio:192.0.2.30:30000:sendrecv:ice=no", "1", ""), 2),
            "203.0.113.5 40000");
  EXPECT_EQ(last_actions_, (Actions{PartyReset{id, Party::callee, {ip("192.0.2.30"), 30000}}}));
  // The 200 from the second gateway confirms what is already there.
  EXPECT_EQ(update(reply("audio:192.0.2.30:30000:sendrecv:ice=no", "1", "gw2-tag"), 3),
            "203.0.113.5 40000");
  EXPECT_TRUE(last_actions_.empty());
  EXPECT_EQ(manager_.find_session("call-1", "caller-tag", std::nullopt)->to_tag(), "gw2-tag");
}

TEST_F(RelaySessionTest, AudioVideoThenAudioOnlyThenVideoReAdded) {
  EXPECT_EQ(update(invite(join({kCallerAudio, kCallerVideo})), 0), "203.0.113.5 40002 40006");
  const auto first = opened();
  EXPECT_EQ(update(reply(join({kCalleeAudio, kCalleeVideo})), 1), "203.0.113.5 40000 40004");

  EXPECT_EQ(update(invite(kCallerAudio, "2"), 10), "203.0.113.5 40002");
  EXPECT_TRUE(opened().empty());
  EXPECT_EQ(manager_.counts().load, 2U);  // video lives until the answer
  EXPECT_EQ(update(reply(kCalleeAudio, "2"), 11), "203.0.113.5 40000");
  EXPECT_EQ(last_actions_, (Actions{StreamClosed{first[1], "closed"}}));
  EXPECT_EQ(manager_.counts().load, 1U);
  EXPECT_EQ(manager_.find_stream(first[1]), nullptr);  // forgotten with its offer

  // Video again: a new stream with the next pairs of the FIFO pool.
  EXPECT_EQ(update(invite(join({kCallerAudio, kCallerVideo}), "3"), 20),
            "203.0.113.5 40002 40010");
  const auto readded = opened();
  ASSERT_EQ(readded.size(), 1U);
  EXPECT_NE(readded[0], first[1]);
  EXPECT_EQ(update(reply(join({kCalleeAudio, kCalleeVideo}), "3"), 21),
            "203.0.113.5 40000 40008");
  auto stats = remove("call-1", "caller-tag", "callee-tag", 31);
  ASSERT_EQ(stats.streams.size(), 2U);
  EXPECT_EQ(stats.streams[0].media_type, "audio");
  EXPECT_EQ(stats.streams[1].media_type, "video");
  EXPECT_EQ(stats.streams[1].start_time, 20);  // answered 20 s after the call started
  EXPECT_EQ(stats.streams[1].caller_local, "203.0.113.5:40008");
}

TEST_F(RelaySessionTest, CalleePortChangeInAReInviteAnswerResets) {
  update(invite(kCallerAudio), 0);
  const auto id = opened().at(0);
  update(reply(kCalleeAudio), 1);
  EXPECT_EQ(update(invite(kCallerAudio, "2"), 10), "203.0.113.5 40002");
  EXPECT_EQ(update(reply("audio:192.0.2.20:30010:sendrecv:ice=no", "2"), 11),
            "203.0.113.5 40000");
  EXPECT_EQ(last_actions_, (Actions{PartyReset{id, Party::callee, {ip("192.0.2.20"), 30010}}}));
}

TEST_F(RelaySessionTest, CalleeReInviteWithANewPortGetsANewStream) {
  update(invite(kCallerAudio), 0);
  const auto old_id = opened().at(0);
  update(reply(kCalleeAudio), 1);
  // The callee's re-INVITE: tags swapped, its own CSeq space; not the address it signalled.
  EXPECT_EQ(update(callee_request("audio:192.0.2.20:30010:sendrecv:ice=no", "1"), 10),
            "203.0.113.5 40004");
  const auto opened_actions = actions_of<StreamOpened>(last_actions_);
  ASSERT_EQ(opened_actions.size(), 1U);
  EXPECT_EQ(opened_actions[0].offerer, Party::callee);
  EXPECT_EQ(update(caller_reply(kCallerAudio, "1"), 11), "203.0.113.5 40006");
  EXPECT_EQ(actions_of<StreamClosed>(last_actions_),
            (std::vector<StreamClosed>{{old_id, "closed"}}));
  EXPECT_EQ(pool_.in_use_count(), 2U);
}

TEST_F(RelaySessionTest, HoldViaSendonly) {
  update(invite(kCallerAudio), 0);
  const auto id = opened().at(0);
  update(reply("audio:192.0.2.20:30000:recvonly:ice=no"), 1);  // recvonly alone is not hold
  EXPECT_TRUE(last_actions_.size() == 1 && actions_of<HoldChanged>(last_actions_).empty());

  EXPECT_EQ(update(invite("audio:192.168.1.10:50000:sendonly:ice=no", "2"), 10),
            "203.0.113.5 40002");
  EXPECT_EQ(last_actions_, (Actions{HoldChanged{id, true}}));
  EXPECT_EQ(update(reply("audio:192.0.2.20:30000:recvonly:ice=no", "2"), 11),
            "203.0.113.5 40000");
  EXPECT_TRUE(last_actions_.empty());
  EXPECT_EQ(manager_.sessions(at(12)).at(0).streams.at(0).status, "on hold");

  update(invite(kCallerAudio, "3"), 300);
  EXPECT_EQ(last_actions_, (Actions{HoldChanged{id, false}}));
  update(reply(kCalleeAudio, "3"), 301);
  EXPECT_EQ(manager_.sessions(at(302)).at(0).streams.at(0).status, "active");
}

TEST_F(RelaySessionTest, HoldViaZeroAddress) {
  update(invite(kCallerAudio), 0);
  const auto id = opened().at(0);
  update(reply(kCalleeAudio), 1);
  EXPECT_EQ(update(invite("audio:0.0.0.0:50000:sendrecv:ice=no", "2"), 10), "203.0.113.5 40002");
  EXPECT_EQ(last_actions_, (Actions{HoldChanged{id, true}}));
  EXPECT_TRUE(opened().empty());  // same stream, same ports
  update(reply(kCalleeAudio, "2"), 11);
  // Back from hold: the address signalled before the hold still matches.
  EXPECT_EQ(update(invite(kCallerAudio, "3"), 310), "203.0.113.5 40002");
  EXPECT_EQ(last_actions_, (Actions{HoldChanged{id, false}}));
}

TEST_F(RelaySessionTest, CalleeOriginatedReInviteAndBye) {
  update(invite(kCallerAudio), 0);
  update(reply(kCalleeAudio), 1);
  // Same media from the callee: the stream is kept; the request goes to the caller.
  EXPECT_EQ(update(callee_request(kCalleeAudio, "1"), 10), "203.0.113.5 40000");
  EXPECT_TRUE(opened().empty());
  EXPECT_EQ(update(caller_reply(kCallerAudio, "1"), 11), "203.0.113.5 40002");
  // A retransmitted caller INVITE (old CSeq) still gets its offer's ports.
  EXPECT_EQ(update(invite(kCallerAudio), 12), "203.0.113.5 40002");
  // BYE from the callee: tags swapped.
  auto stats = remove("call-1", "callee-tag", "caller-tag", 21);
  EXPECT_EQ(stats.from_tag, "caller-tag");
  EXPECT_EQ(stats.to_tag, "callee-tag");
  EXPECT_EQ(stats.duration, 20);
  EXPECT_EQ(manager_.session_count(), 0U);
}

TEST_F(RelaySessionTest, FourConcurrentCalls) {
  std::set<std::uint16_t> ports;
  for (int call = 1; call <= 4; ++call) {
    Message inv = invite(kCallerAudio);
    inv.call_id = "call-" + std::to_string(call);
    Message ok = reply(kCalleeAudio);
    ok.call_id = inv.call_id;
    update(inv, call);
    update(ok, call + 1);
    for (const auto& o : actions_of<StreamOpened>(last_actions_)) {
      ports.insert(o.caller_local.port);
    }
  }
  EXPECT_EQ(pool_.in_use_count(), 8U);
  auto counts = manager_.counts();
  EXPECT_EQ(counts.session_count, 4U);
  EXPECT_EQ(counts.stream_count, (std::map<std::string, std::uint64_t>{{"audio", 4}}));
  EXPECT_EQ(manager_.sessions(at(10)).size(), 4U);

  auto stats = remove("call-2", "caller-tag", "callee-tag", 20);
  EXPECT_EQ(stats.call_id, "call-2");
  EXPECT_EQ(stats.streams.at(0).caller_local, "203.0.113.5:40004");
  EXPECT_EQ(manager_.counts().session_count, 3U);
  // The others are untouched.
  Message re = invite(kCallerAudio, "2");
  re.call_id = "call-3";
  EXPECT_EQ(update(re, 21), "203.0.113.5 40010");

  protocol::RelaySummary base;
  base.ip = kRelayIp;
  base.version = "4.1.2";
  EXPECT_EQ(manager_.summary_json(base),
            R"({"ip": "203.0.113.5", "version": "4.1.2", "status": "active", "uptime": 0, )"
            R"("session_count": 3, "stream_count": {"audio": 3}, "bps_relayed": 0.0, "load": 3})");
}

TEST_F(RelaySessionTest, OldCseqBeforeAndAfterTheAnswer) {
  update(invite(kCallerAudio), 0);
  update(reply(kCalleeAudio), 1);
  update(invite("audio:192.168.1.10:50010:sendrecv:ice=no", "2"), 10);  // new stream 40004/6
  // Before the answer the previous offer is still known: its ports are answered.
  EXPECT_EQ(update(invite(kCallerAudio, "1"), 10.5), "203.0.113.5 40002");
  update(reply(kCalleeAudio, "2"), 11);
  // After it, CSeq 1 matches no retained offer: an error, not MediaProxy's None.
  EXPECT_EQ(update_error(invite(kCallerAudio, "1"), 12), "no offer of this session matches CSeq 1");
}

TEST_F(RelaySessionTest, ReplyWithoutSdpAndNoSessionIsNone) {
  auto r = manager_.update(make_update(reply("")), "dispatcher-1", at(0));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value().kind, UpdateOutcome::Kind::no_session);
  EXPECT_EQ(r.value().payload(), "None");
  EXPECT_EQ(manager_.session_count(), 0U);
  EXPECT_EQ(update_error(invite(""), 0), "update: a request without media cannot start a session");
}

TEST_F(RelaySessionTest, OkWithoutSdpMarksTheCallAnswered) {
  update(invite(kCallerAudio), 0);
  EXPECT_EQ(update(reply(""), 3), "203.0.113.5 40000");  // answer without media, to the caller
  EXPECT_TRUE(last_actions_.empty());
  auto stats = remove("call-1", "caller-tag", "callee-tag", 13);
  EXPECT_EQ(stats.start_time, 1795521603.0);
  EXPECT_EQ(stats.to_tag, "callee-tag");
  ASSERT_EQ(stats.streams.size(), 1U);
  EXPECT_EQ(stats.streams[0].status, "closed");
}

TEST_F(RelaySessionTest, ReOfferWithoutMediaChangesNothing) {
  update(invite(kCallerAudio), 0);
  update(reply(kCalleeAudio), 1);
  auto r = manager_.update(make_update(invite("", "2")), "dispatcher-1", at(5));
  ASSERT_FALSE(r.has_value());  // no offer has CSeq 2
  EXPECT_EQ(update(reply(kCalleeAudio), 6), "203.0.113.5 40000");  // CSeq 1 is still current
}

TEST_F(RelaySessionTest, MediaTypeMismatchIsAnErrorAndChangesNothing) {
  update(invite(kCallerAudio), 0);
  EXPECT_EQ(update_error(reply("video:192.0.2.20:30000:sendrecv:ice=no"), 1),
            "media types do not match: stream 1 was offered as audio and answered as video");
  auto stats = manager_.sessions(at(2)).at(0);
  EXPECT_FALSE(stats.start_time);  // not answered
  EXPECT_EQ(update(reply(kCalleeAudio), 3), "203.0.113.5 40000");
}

TEST_F(RelaySessionTest, PortZeroInAReOfferClosesTheStream) {
  update(invite(join({kCallerAudio, kCallerVideo})), 0);
  const auto ids = opened();
  update(reply(join({kCalleeAudio, kCalleeVideo})), 1);
  EXPECT_EQ(update(invite(join({kCallerAudio, "video:192.168.1.10:0:sendrecv:ice=no"}), "2"), 5),
            "203.0.113.5 40002 0");
  EXPECT_EQ(last_actions_, (Actions{StreamClosed{ids[1], "closed"}}));
  EXPECT_EQ(pool_.in_use_count(), 2U);
}

TEST_F(RelaySessionTest, CountersAbove32BitsAndSnapshotAtStreamEnd) {
  update(invite(join({kCallerAudio, kCallerVideo})), 0);
  const auto ids = opened();
  update(reply(join({kCalleeAudio, kCalleeVideo})), 1);
  traffic_[ids[1]] = StreamTraffic{5'000'000'000ULL, 1, 3, 4, {}, {}};
  update(invite(kCallerAudio, "2"), 5);
  update(reply(kCalleeAudio, "2"), 6);  // video ends here: its totals are captured now
  traffic_[ids[1]] = StreamTraffic{};
  traffic_[ids[0]] = StreamTraffic{1ULL << 40, (1ULL << 33) + 7, 1ULL << 32, 9, {}, {}};
  auto r = manager_.remove(make_remove("call-1", "caller-tag"), at(10));
  ASSERT_TRUE(r.has_value());
  const auto& audio = r.value().statistics.streams.at(0);
  EXPECT_EQ(audio.caller_bytes, 1ULL << 40);
  EXPECT_EQ(audio.callee_bytes, (1ULL << 33) + 7);
  EXPECT_EQ(audio.caller_packets, 1ULL << 32);
  EXPECT_NE(r.value().payload().find(R"("caller_bytes": 1099511627776)"), std::string::npos);
  EXPECT_NE(r.value().payload().find(R"("caller_packets": 4294967296)"), std::string::npos);
}

TEST_F(RelaySessionTest, PortExhaustionIsAnErrorAndLeaksNothing) {
  PortPool small(config::PortRange{40000, 40006});  // three pairs: one stream and a half
  SessionManager manager({ip(kRelayIp), {}, {}}, small, {});
  auto first = manager.update(make_update(invite(kCallerAudio)), "d", at(0));
  ASSERT_TRUE(first.has_value());
  Message second = invite(join({kCallerAudio, kCallerVideo}));
  second.call_id = "call-2";
  auto r = manager.update(make_update(second), "d", at(1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "all allocated ports are being used");
  EXPECT_EQ(manager.session_count(), 1U);
  EXPECT_EQ(small.in_use_count(), 2U);
  EXPECT_EQ(small.free_count(), 1U);
  // A re-offer that needs more ports than there are fails and leaves the call as it was.
  auto re = manager.update(make_update(invite(join({kCallerAudio, kCallerVideo}), "2")), "d",
                           at(2));
  ASSERT_FALSE(re.has_value());
  auto same = manager.update(make_update(invite(kCallerAudio)), "d", at(3));
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same.value().payload(), "203.0.113.5 40002");
  // Ports come back on remove, to the tail of the pool.
  ASSERT_TRUE(manager.remove(make_remove("call-1", "caller-tag"), at(4)).has_value());
  EXPECT_EQ(small.in_use_count(), 0U);
  EXPECT_EQ(small.free_count(), 3U);
  Message third = invite(kCallerAudio);
  third.call_id = "call-3";
  auto next = manager.update(make_update(third), "d", at(5));
  ASSERT_TRUE(next.has_value());
  // FIFO: 40004 (never used) first, then the pairs freed by the remove.
  EXPECT_EQ(next.value().payload(), "203.0.113.5 40000");
  EXPECT_EQ(actions_of<StreamOpened>(next.value().actions).at(0).caller_local.port, 40004);
  auto stats = manager.sessions(at(6));
  ASSERT_EQ(stats.size(), 1U);
}

TEST_F(RelaySessionTest, MultiStreamOfferFailingHalfwayGivesEverythingBack) {
  PortPool small(config::PortRange{40000, 40010});  // five pairs: two streams and a half
  SessionManager manager({ip(kRelayIp), {}, {}}, small, {});
  auto r = manager.update(
      make_update(invite(join({kCallerAudio, kCallerVideo, "image:192.168.1.10:50004:sendrecv:ice=no"}))),
      "d", at(0));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(small.in_use_count(), 0U);
  EXPECT_EQ(small.free_count(), 5U);
  auto ok = manager.update(make_update(invite(kCallerAudio)), "d", at(1));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok.value().payload(), "203.0.113.5 40002");  // the order was kept
}

TEST_F(RelaySessionTest, BindFailuresAreSkipped) {
  unbindable_ = {40002};
  EXPECT_EQ(update(invite(kCallerAudio), 0), "203.0.113.5 40004");
  EXPECT_EQ(update(reply(kCalleeAudio), 1), "203.0.113.5 40000");
  EXPECT_EQ(pool_.bad_count(), 1U);
}

TEST_F(RelaySessionTest, JsonSignalingIpFeedsUsername) {
  Message inv = invite(kCallerAudio);
  inv.signaling_ip = R"({"signaling_ip": "198.51.100.7", "username": "alice"})";
  update(inv, 0);
  update(reply(kCalleeAudio), 1);
  auto stats = remove("call-1", "caller-tag", "callee-tag", 2);
  EXPECT_EQ(stats.username, "alice");
}

TEST_F(RelaySessionTest, MalformedSignalingIpRefusesANewSession) {
  Message inv = invite(kCallerAudio);
  inv.signaling_ip = "198.51.100";
  EXPECT_EQ(update_error(inv, 0),
            "signaling_ip: the value is not an IPv4 address: \"198.51.100\"");
  EXPECT_EQ(manager_.session_count(), 0U);
  EXPECT_EQ(pool_.in_use_count(), 0U);
}

TEST(RelaySessionAddresses, AutoDetectedSidesAndAdvertisedIp) {
  PortPool pool(config::PortRange{40000, 40100});
  SignalingAddresses seen;
  ManagerSettings settings{ip("10.0.0.1"), {}, [&](const SignalingAddresses& s) {
                             seen = s;
                             return SideAddresses{ip("10.0.0.1"), ip("192.0.2.1")};
                           }};
  SessionManager manager(settings, pool, {});
  Message inv = invite(kCallerAudio);
  inv.signaling_ip = "198.51.100.7_192.0.2.20";
  auto r = manager.update(make_update(inv), "d", at(0));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(seen.destination_ip, ip("192.0.2.20"));
  EXPECT_EQ(r.value().payload(), "192.0.2.1 40002");  // downstream: the callee side's IP
  auto ok = manager.update(make_update(reply(kCalleeAudio)), "d", at(1));
  EXPECT_EQ(ok.value().payload(), "10.0.0.1 40000");
  auto stats = manager.sessions(at(2)).at(0);
  EXPECT_EQ(stats.streams.at(0).callee_local, "192.0.2.1:40002");

  PortPool pool2(config::PortRange{40000, 40100});
  settings.advertised_ip = ip("203.0.113.5");
  SessionManager advertised(settings, pool2, {});
  auto a = advertised.update(make_update(inv), "d", at(0));
  EXPECT_EQ(a.value().payload(), "203.0.113.5 40002");
  EXPECT_EQ(advertised.sessions(at(1)).at(0).streams.size(), 0U);
}

TEST_F(RelaySessionTest, HaltingRefusesOnlyNewSessions) {
  update(invite(kCallerAudio), 0);
  manager_.set_halting(true);
  Message other = invite(kCallerAudio);
  other.call_id = "call-2";
  auto r = manager_.update(make_update(other), "dispatcher-1", at(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value().payload(), "halting");
  EXPECT_EQ(pool_.in_use_count(), 2U);
  EXPECT_EQ(update(reply(kCalleeAudio), 2), "203.0.113.5 40000");
}

}  // namespace
}  // namespace mpx::relay::session::test

namespace mpx::relay::session::test {
namespace {

TEST_F(RelaySessionTest, HoldByTheAnswererViaZeroAddressIsNoReset) {
  update(invite(kCallerAudio), 0);
  const auto id = opened().at(0);
  update(reply(kCalleeAudio), 1);
  update(invite(kCallerAudio, "2"), 10);
  EXPECT_EQ(update(reply("audio:0.0.0.0:30000:sendrecv:ice=no", "2"), 11), "203.0.113.5 40000");
  EXPECT_EQ(last_actions_, (Actions{HoldChanged{id, true}}));
}

TEST_F(RelaySessionTest, EachPartysSignalingIpIsKeptAsALatchingHint) {
  update(invite(kCallerAudio), 0);
  const auto id = opened().at(0);
  const Session* session = manager_.session_of_stream(id);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->signaling_ip(Party::caller), ip("198.51.100.7"));
  EXPECT_FALSE(session->signaling_ip(Party::callee));
  Message ok = reply(kCalleeAudio);
  ok.signaling_ip = "not an address";  // only the creating update's value must parse
  update(ok, 1);
  EXPECT_FALSE(session->signaling_ip(Party::callee));
  Message reinvite = callee_request(kCalleeAudio, "1");
  reinvite.signaling_ip = "192.0.2.20";
  update(reinvite, 5);
  EXPECT_EQ(session->signaling_ip(Party::callee), ip("192.0.2.20"));
}

}  // namespace
}  // namespace mpx::relay::session::test
