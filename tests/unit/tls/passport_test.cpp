// Passport (spec 3.1): parsing of the config value and matching against certificate subjects,
// with the test PKI's certificates and hand-made subjects for corner cases.
#include "common/tls/passport.hpp"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/tls/pem_files.hpp"
#include "tests/support/test_pki.hpp"

namespace mpx::tls {
namespace {

X509Ptr pki_certificate(const std::string& name) {
  auto certificates = load_certificates(mpx::test::test_pki_dir() / name);
  EXPECT_TRUE(certificates.has_value()) << certificates.error().message;
  return std::move(certificates.value().front());
}

// A certificate with just a subject: matching only looks at the subject.
X509Ptr certificate_with_subject(const std::vector<std::pair<std::string, std::string>>& entries) {
  X509Ptr cert(X509_new());
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& [field, value] : entries) {
    EXPECT_EQ(1, X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                            reinterpret_cast<const unsigned char*>(value.data()),
                                            static_cast<int>(value.size()), -1, 0));
  }
  return cert;
}

Passport parse_ok(std::string_view text) {
  auto parsed = Passport::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << parsed.error().message;
  EXPECT_TRUE(parsed.value().has_value()) << text;
  return *parsed.value();
}

std::string parse_error(std::string_view text) {
  auto parsed = Passport::parse(text);
  EXPECT_FALSE(parsed.has_value()) << text;
  return parsed.has_value() ? std::string() : parsed.error().message;
}

TEST(TlsPassport, NoneInAnyCaseDisablesTheCheck) {
  for (const char* text : {"None", "none", "NONE", "  nOnE  "}) {
    auto parsed = Passport::parse(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_FALSE(parsed.value().has_value()) << text;
  }
}

TEST(TlsPassport, ParsesEveryAttributeTrimmedAndCaseInsensitiveNames) {
  const Passport p = parse_ok(
      "  c:NL,ST: Noord-Holland ,L:Amsterdam, O :mpx test,OU:relays , cn:relay1.mpx.test, "
      "Email:ops@mpx.test ");
  EXPECT_EQ(p.pattern(SubjectAttribute::C), "NL");
  EXPECT_EQ(p.pattern(SubjectAttribute::ST), "Noord-Holland");
  EXPECT_EQ(p.pattern(SubjectAttribute::L), "Amsterdam");
  EXPECT_EQ(p.pattern(SubjectAttribute::O), "mpx test");
  EXPECT_EQ(p.pattern(SubjectAttribute::OU), "relays");
  EXPECT_EQ(p.pattern(SubjectAttribute::CN), "relay1.mpx.test");
  EXPECT_EQ(p.pattern(SubjectAttribute::EMAIL), "ops@mpx.test");
}

TEST(TlsPassport, ValueKeepsEverythingAfterTheFirstColon) {
  EXPECT_EQ(parse_ok("CN:a:b:c").pattern(SubjectAttribute::CN), "a:b:c");
}

TEST(TlsPassport, EscapedCommaStaysInTheValue) {
  const Passport p = parse_ok("O:Intruder\\, Inc., OU:intruders");
  EXPECT_EQ(p.pattern(SubjectAttribute::O), "Intruder, Inc.");
  EXPECT_EQ(p.pattern(SubjectAttribute::OU), "intruders");
  EXPECT_FALSE(p.mismatch(pki_certificate("wrong-subject.crt").get()).has_value());
  EXPECT_EQ(p.mismatch(pki_certificate("relay.crt").get()),
            "O='mpx test' does not match 'Intruder, Inc.'");
}

TEST(TlsPassport, MalformedValuesAreClearErrors) {
  EXPECT_NE(parse_error("").find("empty passport"), std::string::npos);
  EXPECT_NE(parse_error("O").find("'O' is not of the form AN:value"), std::string::npos);
  EXPECT_NE(parse_error("X:1").find("unknown attribute 'X'"), std::string::npos);
  EXPECT_NE(parse_error("emailAddress:a@b").find("unknown attribute 'emailAddress'"),
            std::string::npos);
  EXPECT_NE(parse_error("O:  ").find("empty value for O"), std::string::npos);
  EXPECT_NE(parse_error("O:a,").find("empty entry"), std::string::npos);
  EXPECT_NE(parse_error(",O:a").find("empty entry"), std::string::npos);
  EXPECT_NE(parse_error("O:a,, OU:b").find("empty entry"), std::string::npos);
  EXPECT_NE(parse_error("O:a, o:b").find("O is given twice"), std::string::npos);
  EXPECT_NE(parse_error("O:a\\").find("ends with a backslash"), std::string::npos);
  // Control characters in the input never reach the message raw: it stays one line.
  const std::string message = parse_error("O\nX:1");
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(TlsPassport, ExactValueMustMatchWholly) {
  const auto relay = pki_certificate("relay.crt");
  EXPECT_FALSE(parse_ok("CN:relay1.mpx.test").mismatch(relay.get()).has_value());
  EXPECT_EQ(parse_ok("CN:relay1").mismatch(relay.get()),
            "CN='relay1.mpx.test' does not match 'relay1'");
  EXPECT_EQ(parse_ok("CN:RELAY1.mpx.test").mismatch(relay.get()),
            "CN='relay1.mpx.test' does not match 'RELAY1.mpx.test'");
}

TEST(TlsPassport, LeadingStarMeansEndsWith) {
  const Passport p = parse_ok("CN:*.mpx.test");
  EXPECT_FALSE(p.mismatch(pki_certificate("relay.crt").get()).has_value());
  EXPECT_FALSE(p.mismatch(pki_certificate("dispatcher.crt").get()).has_value());
  EXPECT_EQ(p.mismatch(pki_certificate("wrong-subject.crt").get()),
            "CN='intruder.example.org' does not match '*.mpx.test'");
}

TEST(TlsPassport, TrailingStarMeansStartsWith) {
  const Passport p = parse_ok("CN:relay*");
  EXPECT_FALSE(p.mismatch(pki_certificate("relay.crt").get()).has_value());
  EXPECT_EQ(p.mismatch(pki_certificate("dispatcher.crt").get()),
            "CN='dispatcher1.mpx.test' does not match 'relay*'");
}

TEST(TlsPassport, MatchRulesFollowMediaProxy) {
  EXPECT_TRUE(passport_value_matches("*", "anything"));
  EXPECT_TRUE(passport_value_matches("*", ""));
  EXPECT_TRUE(passport_value_matches("abc*", "abc"));
  EXPECT_TRUE(passport_value_matches("*abc", "abc"));
  // Only one wildcard form applies; a star at the other end is literal (as in MediaProxy).
  EXPECT_TRUE(passport_value_matches("*mid*", "x mid*"));
  EXPECT_FALSE(passport_value_matches("*mid*", "x mid y"));
  EXPECT_FALSE(passport_value_matches("a*c", "abc"));
  EXPECT_TRUE(passport_value_matches("a*c", "a*c"));
}

TEST(TlsPassport, EveryListedAttributeMustMatch) {
  const auto relay = pki_certificate("relay.crt");
  const std::string all =
      "C:NL, ST:Noord-Holland, L:Amsterdam, O:mpx test, OU:relays, CN:relay1.mpx.test, "
      "EMAIL:ops@mpx.test";
  EXPECT_FALSE(parse_ok(all).mismatch(relay.get()).has_value());

  // Changing any single attribute makes the passport fail on exactly that attribute.
  const std::vector<std::pair<std::string, std::string>> changes{
      {"C:NL", "C:DE"},
      {"ST:Noord-Holland", "ST:Berlin"},
      {"L:Amsterdam", "L:Berlin"},
      {"O:mpx test", "O:mpx"},
      {"OU:relays", "OU:dispatchers"},
      {"CN:relay1.mpx.test", "CN:relay2.mpx.test"},
      {"EMAIL:ops@mpx.test", "EMAIL:admin@mpx.test"}};
  for (const auto& [from, to] : changes) {
    std::string text = all;
    text.replace(text.find(from), from.size(), to);
    const auto why = parse_ok(text).mismatch(relay.get());
    ASSERT_TRUE(why.has_value()) << text;
    const std::string name = to.substr(0, to.find(':'));
    EXPECT_EQ(why->rfind(name + "=", 0), 0U) << *why;
  }
}

TEST(TlsPassport, EmailIsTheEmailAddressAttribute) {
  const Passport p = parse_ok("EMAIL:*@mpx.test");
  EXPECT_FALSE(p.mismatch(pki_certificate("management.crt").get()).has_value());
  EXPECT_EQ(p.mismatch(pki_certificate("wrong-subject.crt").get()),
            "EMAIL='intruder@example.org' does not match '*@mpx.test'");
}

TEST(TlsPassport, MissingAttributeIsAMismatch) {
  const auto cert = certificate_with_subject({{"CN", "relay9.mpx.test"}});
  EXPECT_FALSE(parse_ok("CN:relay9*").mismatch(cert.get()).has_value());
  EXPECT_EQ(parse_ok("CN:relay9*, EMAIL:*").mismatch(cert.get()),
            "EMAIL is missing from the certificate subject (expected '*')");
  EXPECT_EQ(parse_ok("O:x").mismatch(nullptr), "no certificate to check");
}

TEST(TlsPassport, MatchesUtf8Values) {
  const auto cert = certificate_with_subject({{"O", "Zürich Medien AG"}, {"CN", "r1"}});
  EXPECT_FALSE(parse_ok("O:Zürich*").mismatch(cert.get()).has_value());
  EXPECT_EQ(parse_ok("O:Zurich*").mismatch(cert.get()),
            "O='Zürich Medien AG' does not match 'Zurich*'");
}

TEST(TlsPassport, PeerControlledTextCannotBreakTheLogLine) {
  const auto cert = certificate_with_subject({{"CN", "evil\nFAKE LOG LINE"}});
  const auto why = parse_ok("CN:good").mismatch(cert.get());
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->find('\n'), std::string::npos);
  EXPECT_NE(why->find("evil\\x0aFAKE LOG LINE"), std::string::npos) << *why;
}

TEST(TlsPassport, ToStringIsCanonicalAndReparsesEqual) {
  const Passport p = parse_ok("email:*@mpx.test,  cn:relay*, O:Intruder\\, Inc.");
  EXPECT_EQ(p.to_string(), "O:Intruder\\, Inc., CN:relay*, EMAIL:*@mpx.test");
  const Passport again = parse_ok(p.to_string());
  EXPECT_EQ(again, p);
  EXPECT_NE(parse_ok("O:a"), parse_ok("O:b"));
  EXPECT_NE(parse_ok("O:a"), parse_ok("OU:a"));
}

TEST(TlsPassport, BackslashesOtherThanBeforeACommaAreLiteral) {
  const Passport p = parse_ok("CN:a\\b, O:x\\\\,y");
  EXPECT_EQ(p.pattern(SubjectAttribute::CN), "a\\b");
  EXPECT_EQ(p.pattern(SubjectAttribute::O), "x\\,y");
  EXPECT_EQ(parse_ok(p.to_string()), p);
}

}  // namespace
}  // namespace mpx::tls
