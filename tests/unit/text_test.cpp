// Names from the profiled program reach terminals, CSV files and SVG documents: what a
// terminal would obey is made visible, JSON stays the same value, XML stays well-formed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/table.h"
#include "util/text.h"

namespace hotline {
namespace {

TEST(Printable, EscapeSequencesBecomeVisible) {
  EXPECT_EQ(printable("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
  EXPECT_EQ(printable("a\x1b[2Jb"), "a\\x1b[2Jb");
  EXPECT_EQ(printable("line\nbreak\r\t"), "line\\x0abreak\\x0d\\x09");
  EXPECT_EQ(printable("del\x7f"), "del\\x7f");
  // C1 controls as UTF-8 code points (U+009B is CSI) and as a raw 8-bit byte.
  EXPECT_EQ(printable("\xc2\x9b" "31m"), "\\u009b31m");
  EXPECT_EQ(printable("\x9b" "31m"), "\\x9b31m");
  EXPECT_EQ(printable(std::string("nul\0x", 5)), "nul\\x00x");
}

TEST(Printable, OrdinaryTextIsKept) {
  EXPECT_EQ(printable("std::vector<int>::push_back"), "std::vector<int>::push_back");
  EXPECT_EQ(printable("/src/ünïcode/файл.cpp"), "/src/ünïcode/файл.cpp");
  EXPECT_EQ(printable("…"), "…");
  EXPECT_TRUE(is_printable("main"));
  EXPECT_FALSE(is_printable("a\x1b"));
  // Invalid UTF-8: overlong, surrogate, truncated.
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  EXPECT_EQ(printable("ab\xe2\x80"), "ab\\xe2\\x80");
}

TEST(Printable, LinesKeepNewlinesButNotCarriageReturns) {
  EXPECT_EQ(printable_lines("a\tb\nc\x1b[2J\rd\n"), "a\tb\nc\\x1b[2J\\x0dd\n");
}

TEST(XmlText, SpecialCharactersAndControlsAreSafe) {
  EXPECT_EQ(xml_text("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
  EXPECT_EQ(xml_text("\x1b]0;x\x07"), "\\x1b]0;x\\x07");
  EXPECT_EQ(xml_text("bad\xff"), "bad\\xff");
  EXPECT_EQ(xml_text("tab\tok"), "tab\tok");
}

TEST(DumpJson, SameValueNothingRaw) {
  nlohmann::ordered_json j;
  j["f"] = "\x1b[2J\x7f\xc2\x9bx";
  const std::string text = dump_json(j, -1);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x7f'), std::string::npos);
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(text)["f"], "\x1b[2J\x7f\xc2\x9bx") << text;
}

TEST(Csv, FieldsHoldNoLineBreaks) {
  EXPECT_EQ(csv_escape("a\nb"), "a\\x0ab");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\"\x1b"), "\"say \"\"hi\"\"\\x1b\"");
}

TEST(TextTable, CellsArePrintableAndAligned) {
  TextTable t;
  t.headers = {"A", "B"};
  t.rows = {{"x\x1b[2J", "y"}, {"long cell", "z"}};
  EXPECT_EQ(t.render(), "A          B\nx\\x1b[2J   y\nlong cell  z\n");
}

}  // namespace
}  // namespace hotline
