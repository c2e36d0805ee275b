// Dialog id conversions for the hang-up requests, the plain MI error datagram, the SIP proxy kind
// and the management command words.
#include <gtest/gtest.h>

#include "dispatcher/hangup/datagram_rpc_client.hpp"
#include "dispatcher/hangup/dialog_id.hpp"
#include "dispatcher/hangup/make_dialog_terminator.hpp"
#include "dispatcher/hangup/opensips_terminator.hpp"
#include "dispatcher/management/management_commands.hpp"

namespace mpx::dispatcher {
namespace {

std::string error_of(const Result<DialogHashId>& r) {
  return r.has_value() ? std::string("(no error)") : r.error().message;
}

TEST(OpensipsDialogId, SplitsTheDecimalUniqueIdIntoEntryAndId) {
  // The spec's worked example: 5063766441986 = 1179 * 2^32 + 2.
  const auto id = parse_opensips_dialog_id("5063766441986");
  ASSERT_TRUE(id.has_value()) << error_of(id);
  EXPECT_EQ(id.value(), (DialogHashId{1179, 2}));
  EXPECT_EQ(opensips_dialog_did(id.value()), "49b.2");
}

TEST(OpensipsDialogId, Extremes) {
  EXPECT_EQ(parse_opensips_dialog_id("0").value(), (DialogHashId{0, 0}));
  EXPECT_EQ(parse_opensips_dialog_id("4294967295").value(), (DialogHashId{0, 4294967295U}));
  EXPECT_EQ(parse_opensips_dialog_id("4294967296").value(), (DialogHashId{1, 0}));
  EXPECT_EQ(parse_opensips_dialog_id("18446744073709551615").value(),
            (DialogHashId{4294967295U, 4294967295U}));
  EXPECT_EQ(opensips_dialog_did({0xffffffffU, 4294967295U}), "ffffffff.4294967295");
  EXPECT_EQ(opensips_dialog_did({0, 7}), "0.7");
  EXPECT_EQ(opensips_dialog_did({0xABCU, 12}), "abc.12");
}

TEST(OpensipsDialogId, RejectsBadInput) {
  EXPECT_EQ(error_of(parse_opensips_dialog_id("")), "OpenSIPS dialog_id is empty");
  EXPECT_EQ(error_of(parse_opensips_dialog_id("12a")),
            "OpenSIPS dialog_id '12a' is not a decimal number");
  EXPECT_EQ(error_of(parse_opensips_dialog_id("-1")),
            "OpenSIPS dialog_id '-1' is not a decimal number");
  EXPECT_EQ(error_of(parse_opensips_dialog_id("+1")),
            "OpenSIPS dialog_id '+1' is not a decimal number");
  EXPECT_EQ(error_of(parse_opensips_dialog_id(" 1")),
            "OpenSIPS dialog_id ' 1' is not a decimal number");
  EXPECT_EQ(error_of(parse_opensips_dialog_id("1179:2")),
            "OpenSIPS dialog_id '1179:2' is not a decimal number");
  EXPECT_EQ(error_of(parse_opensips_dialog_id("18446744073709551616")),
            "OpenSIPS dialog_id '18446744073709551616' is too large (max 18446744073709551615)");
  EXPECT_FALSE(parse_opensips_dialog_id("99999999999999999999999999999").has_value());
}

TEST(KamailioDialogId, ParsesEntryColonId) {
  EXPECT_EQ(parse_kamailio_dialog_id("1179:2").value(), (DialogHashId{1179, 2}));
  EXPECT_EQ(parse_kamailio_dialog_id("0:0").value(), (DialogHashId{0, 0}));
  EXPECT_EQ(parse_kamailio_dialog_id("4294967295:4294967295").value(),
            (DialogHashId{4294967295U, 4294967295U}));
}

TEST(KamailioDialogId, RejectsBadInput) {
  EXPECT_EQ(error_of(parse_kamailio_dialog_id("11792")),
            "Kamailio dialog_id '11792' is not h_entry:h_id (no ':')");
  EXPECT_EQ(error_of(parse_kamailio_dialog_id("")),
            "Kamailio dialog_id '' is not h_entry:h_id (no ':')");
  EXPECT_EQ(error_of(parse_kamailio_dialog_id(":2")), "Kamailio dialog_id h_entry is empty");
  EXPECT_EQ(error_of(parse_kamailio_dialog_id("1:")), "Kamailio dialog_id h_id is empty");
  EXPECT_EQ(error_of(parse_kamailio_dialog_id("a:2")),
            "Kamailio dialog_id h_entry 'a' is not a decimal number");
  EXPECT_EQ(error_of(parse_kamailio_dialog_id("1:2:3")),
            "Kamailio dialog_id h_id '2:3' is not a decimal number");
  EXPECT_EQ(error_of(parse_kamailio_dialog_id("4294967296:1")),
            "Kamailio dialog_id h_entry '4294967296' is too large (max 4294967295)");
  EXPECT_EQ(error_of(parse_kamailio_dialog_id("1:99999999999")),
            "Kamailio dialog_id h_id '99999999999' is too large (max 4294967295)");
  EXPECT_FALSE(parse_kamailio_dialog_id("1: 2").has_value());
}

TEST(PlainMiError, ParsesCodeAndMessage) {
  const auto e = parse_plain_error("404 Requested Dialog not found\n");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->first, 404);
  EXPECT_EQ(e->second, "Requested Dialog not found");
  EXPECT_FALSE(parse_plain_error("garbage").has_value());
  EXPECT_FALSE(parse_plain_error(" 404 x").has_value());
  EXPECT_FALSE(parse_plain_error("40a4 x").has_value());
  EXPECT_FALSE(parse_plain_error("1234567890 too many digits").has_value());
  EXPECT_FALSE(parse_plain_error("").has_value());
}

TEST(DialogNotFound, ByCodeOrMessage) {
  RpcOutcome outcome;
  outcome.kind = RpcOutcome::Kind::error;
  outcome.code = 404;
  outcome.message = "whatever";
  EXPECT_TRUE(is_dialog_not_found(outcome));
  outcome.code = 500;
  outcome.message = "Requested Dialog not found";
  EXPECT_TRUE(is_dialog_not_found(outcome));
  outcome.message = "Bad parameter";
  EXPECT_FALSE(is_dialog_not_found(outcome));
  outcome.kind = RpcOutcome::Kind::timeout;
  outcome.message = "not found";  // a timeout is never "not found"
  EXPECT_FALSE(is_dialog_not_found(outcome));
}

TEST(ManagementCommandWords, ExactMatchOnly) {
  EXPECT_EQ(parse_management_command("sessions"), ManagementCommand::sessions);
  EXPECT_EQ(parse_management_command("summary"), ManagementCommand::summary);
  EXPECT_EQ(parse_management_command("version"), ManagementCommand::version);
  EXPECT_EQ(parse_management_command("quit"), ManagementCommand::quit);
  EXPECT_EQ(parse_management_command("exit"), ManagementCommand::quit);
  EXPECT_EQ(parse_management_command("Version"), ManagementCommand::unknown);
  EXPECT_EQ(parse_management_command("version "), ManagementCommand::unknown);
  EXPECT_EQ(parse_management_command("version\n"), ManagementCommand::unknown);
  EXPECT_EQ(parse_management_command(""), ManagementCommand::unknown);
}

}  // namespace
}  // namespace mpx::dispatcher
