// Table layout and terminal-safe text: columns as wide as their widest cell (by display width,
// not bytes), right alignment, no trailing blanks; escape sequences and broken UTF-8 neutralised.
#include <gtest/gtest.h>

#include <string>

#include "tools/mpxctl/table.hpp"

namespace mpx::mpxctl {
namespace {

TEST(MpxctlDisplayText, KeepsPrintableUtf8) {
  EXPECT_EQ(display_text("sip:alice@example.com"), "sip:alice@example.com");
  EXPECT_EQ(display_text("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x9e"),
            "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x9e");
}

TEST(MpxctlDisplayText, ReplacesControlCharacters) {
  EXPECT_EQ(display_text("a\x1b[2Jb"), "a?[2Jb");
  EXPECT_EQ(display_text(std::string("x\0y", 3)), "x?y");
  EXPECT_EQ(display_text("tab\there\r\n\x7f"), "tab?here???");
  EXPECT_EQ(display_text("\xc2\x9b" "31m"), "?31m");  // C1 CSI: one sequence, one '?'
}

TEST(MpxctlDisplayText, ReplacesInvalidUtf8ByteByByte) {
  EXPECT_EQ(display_text("\xff\xfe"), "??");
  EXPECT_EQ(display_text("\xc3"), "?");                 // truncated
  EXPECT_EQ(display_text("\xc3("), "?(");               // bad continuation
  EXPECT_EQ(display_text("\xc0\xaf"), "??");            // overlong '/'
  EXPECT_EQ(display_text("\xed\xa0\x80"), "???");       // UTF-16 surrogate
  EXPECT_EQ(display_text("\xf4\x90\x80\x80"), "????");  // beyond U+10FFFF
}

TEST(MpxctlDisplayWidth, CountsColumnsNotBytes) {
  EXPECT_EQ(display_width(""), 0U);
  EXPECT_EQ(display_width("abc"), 3U);
  EXPECT_EQ(display_width("caf\xc3\xa9"), 4U);
  EXPECT_EQ(display_width("\xe6\x97\xa5\xe6\x9c\xac"), 4U);  // two wide CJK characters
}

TEST(MpxctlTable, PadsColumnsToTheWidestCellAndAlignsRight) {
  Table table({{"A"}, {"N", Align::right}, {"LAST"}});
  table.add_row({"xx", "1", "p"});
  table.add_row({"y", "100"});
  EXPECT_EQ(table.render(),
            "A     N  LAST\n"
            "xx    1  p\n"
            "y   100\n");
  EXPECT_EQ(table.row_count(), 2U);
}

TEST(MpxctlTable, AlignsAfterMultiByteText) {
  Table table({{"NAME"}, {"VALUE"}});
  table.add_row({"caf\xc3\xa9", "1"});
  table.add_row({"plain", "2"});
  EXPECT_EQ(table.render(),
            "NAME   VALUE\n"
            "caf\xc3\xa9   1\n"
            "plain  2\n");
}

TEST(MpxctlTable, SanitisesCellsAndIgnoresExtraCells) {
  Table table({{"X"}});
  table.add_row({"\x1b]0;title\x07", "extra"});
  EXPECT_EQ(table.render(), "X\n?]0;title?\n");
}

}  // namespace
}  // namespace mpx::mpxctl
