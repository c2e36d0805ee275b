// The configparser syntax rules as MediaProxy's files rely on them: comments, continuation lines,
// delimiters, name case, interpolation, duplicates and syntax errors with their line numbers.
#include <gtest/gtest.h>

#include <string>

#include "common/config/config.hpp"
#include "common/config/ini_reader.hpp"

namespace mpx::config {
namespace {

using detail::read_ini;

detail::IniDocument read(const std::string& text) {
  auto document = read_ini(text, "t.ini");
  EXPECT_TRUE(document.has_value()) << (document.has_value() ? "" : document.error().message);
  return document.has_value() ? document.value() : detail::IniDocument{};
}

std::string read_error(const std::string& text) {
  auto document = read_ini(text, "t.ini");
  if (document.has_value()) {
    ADD_FAILURE() << "accepted:\n" << text;
    return {};
  }
  EXPECT_EQ(document.error().message.find('\n'), std::string::npos);
  return document.error().message;
}

TEST(ConfigIniSyntax, CommentsBlankLinesAndBothDelimiters) {
  const auto document = read(
      "# hash comment\n"
      "; semicolon comment\n"
      "\n"
      "[A]\n"
      "   ; indented comment\n"
      "one = 1\n"
      "two: 2\n"
      "three=3;not a comment\n"
      "four : a = b : c\n");
  ASSERT_EQ(document.sections.size(), 1U);
  const auto& options = document.sections[0].options;
  ASSERT_EQ(options.size(), 4U);
  EXPECT_EQ(options[0].name, "one");
  EXPECT_EQ(options[0].value, "1");
  EXPECT_EQ(options[0].line, 6);
  EXPECT_EQ(options[1].value, "2");
  EXPECT_EQ(options[2].value, "3;not a comment");  // configparser has no inline comments
  EXPECT_EQ(options[3].name, "four");              // split at the first delimiter
  EXPECT_EQ(options[3].value, "a = b : c");
}

TEST(ConfigIniSyntax, OptionNamesLowercasedDashesToUnderscoresSectionsVerbatim) {
  const auto document = read("[Relay]\nStream-Timeout = 5\n");
  EXPECT_EQ(document.sections[0].name, "Relay");
  EXPECT_EQ(document.sections[0].options[0].name, "stream_timeout");
  const auto config =
      parse_config("[Relay]\nSTREAM_TIMEOUT = 5\nport-range = 2000:4000\n", "c", "/");
  EXPECT_EQ(config.relay.stream_timeout, std::chrono::seconds(5));
  EXPECT_EQ(config.relay.port_range, (PortRange{2000, 4000}));
}

TEST(ConfigIniSyntax, ContinuationLinesBlankLinesAndCommentsInside) {
  const auto document = read(
      "[A]\n"
      "list = first\n"
      "  second\n"
      "\n"
      "\tthird\n"
      "; a comment does not end the value\n"
      "  fourth\n"
      "\n"
      "\n"
      "next = x\n");
  const auto& options = document.sections[0].options;
  ASSERT_EQ(options.size(), 2U);
  EXPECT_EQ(options[0].value, "first\nsecond\n\nthird\nfourth");  // trailing blank lines dropped
  EXPECT_EQ(options[1].value, "x");
  EXPECT_EQ(options[1].line, 10);
}

TEST(ConfigIniSyntax, IndentedOptionAfterHeaderIsAnOptionNotAContinuation) {
  const auto document = read("[A]\n  one = 1\n  two = 2\n    more\n");
  const auto& options = document.sections[0].options;
  ASSERT_EQ(options.size(), 2U);
  EXPECT_EQ(options[0].value, "1");
  EXPECT_EQ(options[1].value, "2\nmore");
}

TEST(ConfigIniSyntax, EmptyValueAndTrimmedValue) {
  const auto document = read("[A]\nempty =\nspaced =   a b   \n");
  EXPECT_EQ(document.sections[0].options[0].value, "");
  EXPECT_EQ(document.sections[0].options[1].value, "a b");
}

TEST(ConfigIniSyntax, LineEndingsAndByteOrderMark) {
  const auto document = read("\xEF\xBB\xBF[A]\r\none = 1\r\ntwo = 2\rthree = 3");
  const auto& options = document.sections[0].options;
  ASSERT_EQ(options.size(), 3U);
  EXPECT_EQ(options[1].value, "2");
  EXPECT_EQ(options[2].line, 4);
  EXPECT_EQ(options[2].value, "3");
}

TEST(ConfigIniSyntax, HeaderMayBeFollowedByAComment) {
  const auto document = read("[A] ; the A section\nx = 1\n");
  EXPECT_EQ(document.sections[0].name, "A");
  EXPECT_EQ(read_error("[A] junk\n"),
            "t.ini:1: syntax error: unexpected 'junk' after the [Section] header");
}

TEST(ConfigIniSyntax, Interpolation) {
  const auto document =
      read("[A]\nbase = /srv\npath = %(base)s/x\ndeep = %(path)s/y\npct = 100%%\nref = %(PCT)s\n");
  const auto& options = document.sections[0].options;
  EXPECT_EQ(options[1].value, "/srv/x");
  EXPECT_EQ(options[2].value, "/srv/x/y");
  EXPECT_EQ(options[3].value, "100%");
  EXPECT_EQ(options[4].value, "100%");
}

TEST(ConfigIniSyntax, InterpolationErrors) {
  EXPECT_EQ(read_error("[A]\n\nx = 50%\n"),
            "t.ini:3: [A] x = 50%: '%' must be followed by '%' or '(' (write %% for a literal %)");
  EXPECT_EQ(read_error("[A]\nx = %(nope)s\n"),
            "t.ini:2: [A] x = %(nope)s: %(nope)s refers to an option [A] does not set");
  EXPECT_NE(read_error("[A]\nx = %(y)d\ny = 1\n").find("bad '%(' reference"), std::string::npos);
  EXPECT_NE(read_error("[A]\nx = %(x)s\n").find("nested more than 10 levels"), std::string::npos);
  // Options of another section are not visible (as in configparser without [DEFAULT]).
  EXPECT_NE(read_error("[A]\ny = 1\n[B]\nx = %(y)s\n").find("t.ini:4: [B] x"), std::string::npos);
}

TEST(ConfigIniSyntax, InterpolationCannotBlowUp) {
  std::string text = "[A]\nv0 = " + std::string(4000, 'x') + "\n";
  for (int i = 1; i <= 9; ++i) {
    text += "v" + std::to_string(i) + " = " + std::string(8, '-');
    for (int k = 0; k < 8; ++k) {
      text += "%(v" + std::to_string(i - 1) + ")s";
    }
    text += "\n";
  }
  EXPECT_NE(read_error(text).find("grows beyond 1 MiB"), std::string::npos);
}

TEST(ConfigIniSyntax, DuplicateSectionAndOption) {
  EXPECT_EQ(read_error("[A]\nx = 1\n[B]\n[A]\n"),
            "t.ini:4: [A]: duplicate section (first at line 1)");
  EXPECT_EQ(read_error("[A]\nx = 1\ny = 2\nX = 3\n"),
            "t.ini:4: [A] x: duplicate option (first at line 2)");
  EXPECT_EQ(read_error("[A]\nport-range = 1\nport_range = 2\n"),
            "t.ini:3: [A] port_range: duplicate option (first at line 2)");
  // The same option name in two sections is fine.
  EXPECT_EQ(read("[A]\npassport = 1\n[B]\npassport = 2\n").sections.size(), 2U);
}

TEST(ConfigIniSyntax, SyntaxErrorsCarryTheirLine) {
  EXPECT_EQ(read_error("; header missing\nx = 1\n"),
            "t.ini:2: syntax error: 'x = 1' appears before any [Section] header");
  EXPECT_EQ(read_error("[A]\nx = 1\n\njust words\n"),
            "t.ini:4: syntax error: 'just words' is not a [Section] header, an 'option = value' "
            "line or a comment");
  EXPECT_EQ(read_error("[A]\n= 1\n"), "t.ini:2: syntax error: '= 1' has no option name before '='");
  EXPECT_EQ(read_error("[A]\n[Relay\n"),
            "t.ini:2: syntax error: '[Relay' is not a valid [Section] header");
  EXPECT_EQ(read_error("[]\n"), "t.ini:1: syntax error: '[]' is not a valid [Section] header");
  EXPECT_EQ(
      read_error("  indented before header = 1\n"),
      "t.ini:1: syntax error: 'indented before header = 1' appears before any [Section] header");
}

TEST(ConfigIniSyntax, SyntaxErrorThroughParseConfigNamesTheFile) {
  auto config = try_parse_config("[Relay]\nstream_timeout 90\n", "/etc/mediaproxy/config.ini", "/");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().message,
            "/etc/mediaproxy/config.ini:2: syntax error: 'stream_timeout 90' is not a [Section] "
            "header, an 'option = value' line or a comment");
  // With a ':' in it, configparser reads a (misspelt) option named "port_range 40000".
  config = try_parse_config("[Relay]\nport_range 40000:60000\n", "/etc/mediaproxy/config.ini", "/");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().message.rfind(
                "/etc/mediaproxy/config.ini:2: [Relay] port_range 40000: unknown option;", 0),
            0U);
}

TEST(ConfigIniSyntax, OversizedInputRefused) {
  const std::string text = "[A]\n; " + std::string(detail::max_ini_bytes, 'x') + "\n";
  EXPECT_NE(read_error(text).find("t.ini: file is larger than"), std::string::npos);
}

}  // namespace
}  // namespace mpx::config
