// The dispatcher in-process with scripted TLS relays and a module client on the UNIX socket:
// the recorded OpenSIPS bytes, selection and failover inside the answer budget, pinned sessions,
// relay loss and reconnection, expired handling, refused relays, malformed module input.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/dispatcher/dispatcher_harness.hpp"
#include "tests/integration/dispatcher/scripted_relay.hpp"
#include "tests/support/test_pki.hpp"

namespace mpx::dispatcher::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Connects a relay and waits until the dispatcher registered it.
std::unique_ptr<ScriptedRelay> attach(DispatcherHarness& dispatcher, const std::string& ip,
                                      RelayScript script, std::size_t expected_relays) {
  auto relay = std::make_unique<ScriptedRelay>(ip, std::move(script));
  EXPECT_TRUE(relay->connect(dispatcher.relay_endpoint()));
  EXPECT_TRUE(DispatcherHarness::eventually(
      [&] { return dispatcher.relay_count() == expected_relays; }))
      << "relay " << ip << " not registered";
  return relay;
}

RelayScript answer_update_with(const std::string& ip, std::string payload,
                               std::chrono::milliseconds delay = 0ms) {
  auto healthy = healthy_relay(ip);
  return [healthy, payload, delay](const protocol::RelayRequest& request) -> ScriptedAnswer {
    if (request.command == "update") {
      return {payload, delay};
    }
    return healthy(request);
  };
}

TEST(DispatcherRelay, ReplaysOpenSipsEngageCall) {
  DispatcherHarness dispatcher;
  ASSERT_EQ(dispatcher.open_error(), "");
  auto relay = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient module(dispatcher.socket_path());
  ASSERT_TRUE(module.connected());

  EXPECT_EQ(module.ask(opensips_request("engage_media_proxy/1-INVITE-update-request.req")),
            "127.0.0.2 40002");
  EXPECT_EQ(module.ask(opensips_request("engage_media_proxy/2-200OK-update-reply.req")),
            "127.0.0.2 40002");
  EXPECT_EQ(module.ask(opensips_request("engage_media_proxy/3-BYE-remove.req")), "removed");

  // The module's lines reach the relay verbatim and in order, empty-valued ones dropped.
  const auto requests = relay->requests();
  std::vector<protocol::RelayRequest> calls;
  for (const auto& request : requests) {
    if (request.command == "update" || request.command == "remove") {
      calls.push_back(request);
    }
  }
  ASSERT_EQ(calls.size(), 3U);
  const std::vector<protocol::Header> first{{"type", "request"},
                                            {"dialog_id", "6412912378849"},
                                            {"call_id", "1-20052@127.0.0.1"},
                                            {"cseq", "1"},
                                            {"from_uri", "sipp@127.0.0.1:5061"},
                                            {"to_uri", "service@127.0.0.1:5060"},
                                            {"from_tag", "20052SIPpTag091"},
                                            {"user_agent", "sipp-harness-uac"},
                                            {"signaling_ip", "127.0.0.1"},
                                            {"media", "audio:127.0.0.1:6000:sendrecv:ice=no"}};
  EXPECT_EQ(calls[0].headers, first);
  EXPECT_LT(calls[0].seq, calls[1].seq);
  EXPECT_LT(calls[1].seq, calls[2].seq);

  // Accounting got the relay's statistics, annotated.
  ASSERT_EQ(dispatcher.accounted().size(), 1U);
  const auto stats = dispatcher.accounted().front();
  EXPECT_EQ(stats.call_id, "1-20052@127.0.0.1");
  ASSERT_TRUE(stats.dispatcher.has_value());
  EXPECT_EQ(stats.dispatcher->dialog_id, std::optional<std::string>("6412912378849"));
  EXPECT_FALSE(stats.dispatcher->timed_out);
  EXPECT_EQ(dispatcher.session_count(), 0U);
}

TEST(DispatcherRelay, MultistreamPortsPassThroughUnchanged) {
  DispatcherHarness dispatcher;
  auto relay = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient module(dispatcher.socket_path());
  const auto reply = module.ask(opensips_request("multistream/1-INVITE-update-request.req"));
  ASSERT_TRUE(reply.has_value());
  const auto sent = relay->requests();
  const auto media = sent.back().find("media");
  ASSERT_TRUE(media.has_value());
  const auto streams = std::count(media->begin(), media->end(), ',') + 1;
  EXPECT_GE(streams, 2);
  std::string expected = "127.0.0.2";
  for (long i = 0; i < streams; ++i) {
    expected += " " + std::to_string(40002 + 4 * i);
  }
  EXPECT_EQ(*reply, expected);
}

TEST(DispatcherRelay, NoRelayMeansError) {
  DispatcherHarness dispatcher;
  ModuleClient module(dispatcher.socket_path());
  EXPECT_EQ(module.ask(update_request("c1")), "error");
  EXPECT_EQ(module.ask(remove_request("c1")), "error");
}

TEST(DispatcherRelay, NoneAndGarbageBecomeError) {
  DispatcherHarness dispatcher;
  auto relay = attach(dispatcher, "127.0.0.2", answer_update_with("127.0.0.2", "None"), 1);
  ModuleClient module(dispatcher.socket_path());
  EXPECT_EQ(module.ask(update_request("c1")), "error");
  DispatcherHarness other;
  auto garbage = attach(other, "127.0.0.2", answer_update_with("127.0.0.2", "hello world"), 1);
  ModuleClient module2(other.socket_path());
  EXPECT_EQ(module2.ask(update_request("c1")), "error");
}

TEST(DispatcherRelay, RelayErrorFailsOverToTheNextRelay) {
  DispatcherHarness dispatcher;
  auto failing = attach(dispatcher, "127.0.0.2", answer_update_with("127.0.0.2", "error"), 1);
  auto good = attach(dispatcher, "127.0.0.3", healthy_relay("127.0.0.3"), 2);
  ModuleClient module(dispatcher.socket_path());
  // media_relay forces the failing relay to be tried first.
  EXPECT_EQ(module.ask(update_request("c1", "127.0.0.2")), "127.0.0.3 40002");
  EXPECT_EQ(failing->count("update"), 1U);
  EXPECT_EQ(dispatcher.pinned_relay("c1"), std::optional<std::string>("127.0.0.3"));
  // The session is pinned: later requests go to its relay only.
  EXPECT_EQ(module.ask(update_request("c1", "", "5063766441986", "reply")), "127.0.0.3 40002");
  EXPECT_EQ(failing->count("update"), 1U);
  EXPECT_EQ(good->count("update"), 2U);
}

TEST(DispatcherRelay, HaltingRelayIsSkippedForNewSessions) {
  DispatcherHarness dispatcher;
  auto halting = attach(dispatcher, "127.0.0.2", answer_update_with("127.0.0.2", "halting"), 1);
  auto good = attach(dispatcher, "127.0.0.3", healthy_relay("127.0.0.3"), 2);
  ModuleClient module(dispatcher.socket_path());
  EXPECT_EQ(module.ask(update_request("c1", "127.0.0.2")), "127.0.0.3 40002");
  EXPECT_EQ(module.ask(update_request("c2", "127.0.0.2")), "127.0.0.3 40002");
  EXPECT_EQ(halting->count("update"), 1U);  // marked halting after its first answer
}

TEST(DispatcherRelay, SlowRelayIsAnsweredErrorInsideTheBudget) {
  DispatcherHarness dispatcher([](config::Config&, ServiceOptions& options) {
    options.answer_budget = 200ms;
  });
  auto slow = attach(dispatcher, "127.0.0.2",
                     answer_update_with("127.0.0.2", "127.0.0.2 40002", 2000ms), 1);
  ModuleClient module(dispatcher.socket_path());
  const auto start = Clock::now();
  EXPECT_EQ(module.ask(update_request("c1")), "error");
  const auto elapsed = Clock::now() - start;
  EXPECT_LT(elapsed, 200ms + 100ms);
  EXPECT_GE(elapsed, 150ms);  // it did wait for the relay, within its budget
  // The update may still create the session on the relay later: the dispatcher withdraws it so
  // its ports are not held until a media timeout.
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return slow->count("remove") == 1; }));
  for (const auto& sent : slow->requests()) {
    if (sent.command == "remove") {
      EXPECT_EQ(sent.find("call_id"), std::optional<std::string_view>("c1"));
      EXPECT_EQ(sent.find("from_tag"), std::optional<std::string_view>("a73kszlfl"));
    }
  }
}

TEST(DispatcherRelay, HungRelayFailsOverWithinTheBudget) {
  DispatcherHarness dispatcher([](config::Config&, ServiceOptions& options) {
    options.answer_budget = 300ms;
  });
  auto hung = attach(dispatcher, "127.0.0.2",
                     answer_update_with("127.0.0.2", "127.0.0.2 40002", 5000ms), 1);
  auto good = attach(dispatcher, "127.0.0.3", healthy_relay("127.0.0.3"), 2);
  ModuleClient module(dispatcher.socket_path());
  const auto start = Clock::now();
  EXPECT_EQ(module.ask(update_request("c1", "127.0.0.2")), "127.0.0.3 40002");
  EXPECT_LT(Clock::now() - start, 300ms + 100ms);
  // The hung relay is now out of the rotation for new sessions.
  EXPECT_EQ(module.ask(update_request("c2", "127.0.0.2")), "127.0.0.3 40002");
  EXPECT_EQ(hung->count("update"), 1U);
  // A ping shows it alive again: it is tried again for new sessions.
  hung->send_line("ping");
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return hung->pongs() == 1; }));
  EXPECT_EQ(module.ask(update_request("c3", "127.0.0.2")), "127.0.0.3 40002");
  EXPECT_EQ(hung->count("update"), 2U);
}

TEST(DispatcherRelay, NewSessionsGoToTheLeastLoadedRelay) {
  DispatcherHarness dispatcher;
  auto busy = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2", 500), 1);
  auto idle = attach(dispatcher, "127.0.0.3", healthy_relay("127.0.0.3", 0), 2);
  // Wait for both summaries to be known.
  ASSERT_TRUE(DispatcherHarness::eventually(
      [&] { return busy->count("summary") > 0 && idle->count("summary") > 0; }));
  std::this_thread::sleep_for(50ms);
  ModuleClient module(dispatcher.socket_path());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(module.ask(update_request("call-" + std::to_string(i))), "127.0.0.3 40002");
  }
  EXPECT_EQ(busy->count("update"), 0U);
}

TEST(DispatcherRelay, DisconnectedRelaysSessionsAnswerError) {
  DispatcherHarness dispatcher;
  auto first = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient module(dispatcher.socket_path());
  ASSERT_EQ(module.ask(update_request("c1")), "127.0.0.2 40002");
  auto second = attach(dispatcher, "127.0.0.3", healthy_relay("127.0.0.3"), 2);
  first->disconnect();
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return dispatcher.relay_count() == 1; }));
  EXPECT_EQ(module.ask(update_request("c1", "", "5063766441986", "reply")), "error");
  EXPECT_EQ(module.ask(remove_request("c1")), "error");
  EXPECT_EQ(second->count("update"), 0U);  // no failover for a pinned session
  EXPECT_EQ(module.ask(update_request("c2")), "127.0.0.3 40002");
}

TEST(DispatcherRelay, DeadRelaysSessionsAreForgottenAfterTheCleanupDelay) {
  DispatcherHarness dispatcher([](config::Config&, ServiceOptions& options) {
    options.core.cleanup_dead_relays_after = 300ms;
  });
  auto relay = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient module(dispatcher.socket_path());
  ASSERT_EQ(module.ask(update_request("c1")), "127.0.0.2 40002");
  relay->disconnect();
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return dispatcher.relay_count() == 0; }));
  EXPECT_EQ(dispatcher.session_count(), 1U);  // kept while the relay may come back
  EXPECT_TRUE(DispatcherHarness::eventually([&] { return dispatcher.session_count() == 0; }, 3s));
}

TEST(DispatcherRelay, ARelayBackInTimeKeepsItsSessions) {
  DispatcherHarness dispatcher([](config::Config&, ServiceOptions& options) {
    options.core.cleanup_dead_relays_after = 500ms;
  });
  auto healthy = healthy_relay("127.0.0.2");
  const RelayScript keeps_c1 = [healthy](const protocol::RelayRequest& request) -> ScriptedAnswer {
    if (request.command == "sessions") {
      return {"[" + answered_statistics("c1", "active") + "]"};
    }
    return healthy(request);
  };
  auto relay = attach(dispatcher, "127.0.0.2", keeps_c1, 1);
  ModuleClient module(dispatcher.socket_path());
  ASSERT_EQ(module.ask(update_request("c1")), "127.0.0.2 40002");
  relay->disconnect();
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return dispatcher.relay_count() == 0; }));
  auto back = attach(dispatcher, "127.0.0.2", keeps_c1, 1);
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(dispatcher.pinned_relay("c1"), std::optional<std::string>("127.0.0.2"));
}

TEST(DispatcherRelay, ExpiredSessionsTheProxyNeverRemovedArePurged) {
  DispatcherHarness dispatcher([](config::Config&, ServiceOptions& options) {
    options.core.cleanup_expired_sessions_after = 200ms;
    options.core.expired_sweep_interval = 50ms;
  });
  auto relay = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient module(dispatcher.socket_path());
  ASSERT_EQ(module.ask(update_request("c1", "", "42")), "127.0.0.2 40002");
  relay->send_line("expired " + answered_statistics("c1", "no-traffic timeout"));
  ASSERT_TRUE(DispatcherHarness::eventually(
      [&] { return dispatcher.terminator().calls().size() == 1; }));
  EXPECT_TRUE(DispatcherHarness::eventually([&] { return dispatcher.session_count() == 0; }, 3s));
  EXPECT_EQ(module.ask(remove_request("c1")), "error");  // forgotten for good
}

TEST(DispatcherRelay, ReconnectReplacesTheOldLinkAndKeepsListedSessions) {
  DispatcherHarness dispatcher;
  auto old_link = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient module(dispatcher.socket_path());
  ASSERT_EQ(module.ask(update_request("kept")), "127.0.0.2 40002");
  ASSERT_EQ(module.ask(update_request("lost")), "127.0.0.2 40002");
  auto healthy = healthy_relay("127.0.0.2");
  auto new_link = std::make_unique<ScriptedRelay>(
      "127.0.0.2", [healthy](const protocol::RelayRequest& request) -> ScriptedAnswer {
        if (request.command == "sessions") {
          return {"[" + answered_statistics("kept", "active") + "]"};
        }
        return healthy(request);
      });
  ASSERT_TRUE(new_link->connect(dispatcher.relay_endpoint()));
  EXPECT_TRUE(old_link->wait_closed(3s));
  EXPECT_EQ(dispatcher.relay_count(), 1U);
  // Reconciliation: the session the relay no longer has is forgotten (and its dialog ended).
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return !dispatcher.pinned_relay("lost"); }));
  EXPECT_EQ(dispatcher.pinned_relay("kept"), std::optional<std::string>("127.0.0.2"));
  const auto hangups = dispatcher.terminator().calls();
  ASSERT_EQ(hangups.size(), 1U);
  EXPECT_EQ(hangups[0], std::make_pair(std::string("5063766441986"), std::string("lost")));
  EXPECT_EQ(module.ask(update_request("kept", "", "5063766441986", "reply")), "127.0.0.2 40002");
  EXPECT_EQ(new_link->count("update"), 1U);
}

TEST(DispatcherRelay, ExpiredDeadCallIsAccountedHungUpAndRemovedLocally) {
  DispatcherHarness dispatcher;
  auto relay = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient module(dispatcher.socket_path());
  ASSERT_EQ(module.ask(update_request("dead", "", "77")), "127.0.0.2 40002");
  relay->send_line("expired " + answered_statistics("dead", "no-traffic timeout"));
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return dispatcher.accounted().size() == 1; }));
  const auto stats = dispatcher.accounted().front();
  EXPECT_EQ(stats.call_id, "dead");
  EXPECT_TRUE(stats.dispatcher->timed_out);
  EXPECT_EQ(stats.dispatcher->all_streams_ice, std::optional<bool>(false));
  EXPECT_EQ(stats.dispatcher->dialog_id, std::optional<std::string>("77"));
  ASSERT_TRUE(DispatcherHarness::eventually(
      [&] { return dispatcher.terminator().calls().size() == 1; }));
  EXPECT_EQ(dispatcher.terminator().calls()[0],
            std::make_pair(std::string("77"), std::string("dead")));
  // The proxy's remove after the hang-up is answered locally.
  EXPECT_EQ(module.ask(remove_request("dead")), "removed");
  EXPECT_EQ(relay->count("remove"), 0U);
  EXPECT_EQ(dispatcher.accounted().size(), 1U);  // accounted exactly once
  EXPECT_EQ(dispatcher.session_count(), 0U);
}

TEST(DispatcherRelay, ExpiredIceCallIsAccountedButNotHungUp) {
  DispatcherHarness dispatcher;
  auto relay = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient module(dispatcher.socket_path());
  ASSERT_EQ(module.ask(update_request("ice", "", "78")), "127.0.0.2 40002");
  relay->send_line("expired " + answered_statistics("ice", "unselected ICE candidate"));
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return dispatcher.accounted().size() == 1; }));
  EXPECT_FALSE(dispatcher.accounted().front().dispatcher->timed_out);
  EXPECT_TRUE(DispatcherHarness::eventually([&] { return dispatcher.session_count() == 0; }));
  EXPECT_TRUE(dispatcher.terminator().calls().empty());
  // Expired notices for unknown calls or from another relay change nothing.
  relay->send_line("expired " + answered_statistics("unknown", "closed"));
  relay->send_line("ping");
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return relay->pongs() == 1; }));
  EXPECT_EQ(dispatcher.accounted().size(), 1U);
}

TEST(DispatcherRelay, RemoveAnsweredErrorForgetsTheSession) {
  DispatcherHarness dispatcher;
  auto healthy = healthy_relay("127.0.0.2");
  auto relay = attach(dispatcher, "127.0.0.2",
                      [healthy](const protocol::RelayRequest& request) -> ScriptedAnswer {
                        if (request.command == "remove") {
                          return {"error"};
                        }
                        return healthy(request);
                      },
                      1);
  ModuleClient module(dispatcher.socket_path());
  ASSERT_EQ(module.ask(update_request("c1")), "127.0.0.2 40002");
  EXPECT_EQ(module.ask(remove_request("c1")), "error");
  EXPECT_EQ(dispatcher.session_count(), 0U);  // MediaProxy leaked it
  EXPECT_EQ(module.ask(remove_request("c1")), "error");
  EXPECT_EQ(relay->count("remove"), 1U);
}

TEST(DispatcherRelay, WrongCertificatesAndPassportsAreRefused) {
  {
    DispatcherHarness dispatcher;
    const auto pki = mpx::test::test_pki_dir();
    for (const std::string name : {"other", "expired", "revoked"}) {
      // The relay trusts the dispatcher; only the dispatcher's checks can refuse it.
      const tls::CredentialFiles files{pki / (name + ".crt"), pki / (name + ".key"),
                                       pki / "ca.pem", std::nullopt};
      ScriptedRelay relay("127.0.0.2", healthy_relay("127.0.0.2"), files);
      if (relay.connect(dispatcher.relay_endpoint())) {
        EXPECT_TRUE(relay.wait_closed(3s)) << name;
      }
      EXPECT_EQ(dispatcher.relay_count(), 0U) << name;
    }
  }
  DispatcherHarness strict([](config::Config& config, ServiceOptions&) {
    config.dispatcher.passport = "O:somebody else";
  });
  ASSERT_EQ(strict.open_error(), "");
  ScriptedRelay relay("127.0.0.2", healthy_relay("127.0.0.2"));
  if (relay.connect(strict.relay_endpoint())) {
    EXPECT_TRUE(relay.wait_closed(3s));
  }
  EXPECT_EQ(strict.relay_count(), 0U);
  DispatcherHarness matching([](config::Config& config, ServiceOptions&) {
    config.dispatcher.passport = "O:mpx test, OU:relays, CN:*.mpx.test";
  });
  auto accepted = attach(matching, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  EXPECT_FALSE(accepted->closed());
}

TEST(DispatcherRelay, MalformedModuleRequestIsAnsweredErrorAndTheConnectionGoesOn) {
  DispatcherHarness dispatcher;
  auto relay = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient module(dispatcher.socket_path());
  EXPECT_EQ(module.ask("update\r\ncall_id: x\r\nno separator here\r\n\r\n"), "error");
  EXPECT_EQ(module.ask("update\r\ncseq: 1\r\n\r\n"), "error");  // no call_id
  EXPECT_EQ(module.ask(update_request("c1")), "127.0.0.2 40002");
}

TEST(DispatcherRelay, OversizedLineClosesOnlyThatConnection) {
  DispatcherHarness dispatcher;
  auto relay = attach(dispatcher, "127.0.0.2", healthy_relay("127.0.0.2"), 1);
  ModuleClient other(dispatcher.socket_path());
  ModuleClient abuser(dispatcher.socket_path());
  abuser.send("update\r\ncall_id: " + std::string(20000, 'x'));
  EXPECT_TRUE(abuser.wait_closed(3s));
  EXPECT_EQ(other.ask(update_request("c1")), "127.0.0.2 40002");
}

TEST(DispatcherRelay, ConcurrentModuleConnectionsOverThreeRelays) {
  DispatcherHarness dispatcher;
  std::vector<std::unique_ptr<ScriptedRelay>> relays;
  for (int i = 0; i < 3; ++i) {
    const auto ip = "127.0.0." + std::to_string(2 + i);
    relays.push_back(attach(dispatcher, ip, healthy_relay(ip), static_cast<std::size_t>(i + 1)));
  }
  std::atomic<int> good{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 32; ++w) {
    workers.emplace_back([&, w] {
      ModuleClient module(dispatcher.socket_path());
      for (int c = 0; c < 10; ++c) {
        const auto call_id = "w" + std::to_string(w) + "-c" + std::to_string(c);
        const auto placed = module.ask(update_request(call_id));
        const auto removed = module.ask(remove_request(call_id));
        if (placed && placed->rfind("127.0.0.", 0) == 0 && removed == "removed") {
          ++good;
        }
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  EXPECT_EQ(good.load(), 320);
  EXPECT_EQ(dispatcher.accounted().size(), 320U);
  for (const auto& relay : relays) {
    EXPECT_GT(relay->count("update"), 0U) << relay->ip();  // the load was spread
  }
}

TEST(DispatcherRelay, ManagementBackendGathersFromRelays) {
  DispatcherHarness dispatcher;
  EXPECT_EQ(dispatcher.management(false), "[]");
  EXPECT_EQ(dispatcher.management(true), "[]");
  auto healthy = healthy_relay("127.0.0.2", 3);
  auto first = attach(dispatcher, "127.0.0.2",
                      [healthy](const protocol::RelayRequest& request) -> ScriptedAnswer {
                        if (request.command == "sessions") {
                          return {"[" + answered_statistics("a", "active") + ", " +
                                  answered_statistics("b", "active") + "]"};
                        }
                        return healthy(request);
                      },
                      1);
  auto second = attach(dispatcher, "127.0.0.3",
                       [](const protocol::RelayRequest& request) -> ScriptedAnswer {
                         if (request.command == "sessions") {
                           return {"[" + answered_statistics("c", "active") + "]"};
                         }
                         return {"error"};  // its summary fails
                       },
                       2);
  const auto sessions = nlohmann::json::parse(dispatcher.management(false));
  ASSERT_TRUE(sessions.is_array());
  ASSERT_EQ(sessions.size(), 3U);
  EXPECT_EQ(sessions[0]["call_id"], "a");
  EXPECT_EQ(sessions[2]["call_id"], "c");
  const auto summary = dispatcher.management(true);
  EXPECT_NE(summary.find(R"("ip": "127.0.0.2", "version": "test")"), std::string::npos) << summary;
  EXPECT_NE(summary.find(R"({"status": "error", "ip": "127.0.0.3"})"), std::string::npos)
      << summary;
}

}  // namespace
}  // namespace mpx::dispatcher::testing
