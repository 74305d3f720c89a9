// Pure conversions (no Python objects): request targets, percent-decoding, header validation.
#include "conversions.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace {

using node_asgi::IsHeaderName;
using node_asgi::IsHeaderValue;
using node_asgi::LowerAscii;
using node_asgi::PercentDecode;
using node_asgi::SplitTarget;

std::pair<std::string, std::string> Split(std::string_view target) {
  std::string_view path = "unset", query = "unset";
  SplitTarget(target, &path, &query);
  return {std::string(path), std::string(query)};
}

using Parts = std::pair<std::string, std::string>;

// --- SplitTarget --------------------------------------------------------------------------------

TEST(SplitTarget, PlainPathHasEmptyQuery) {
  EXPECT_EQ(Split("/"), Parts("/", ""));
  EXPECT_EQ(Split("/items/42"), Parts("/items/42", ""));
}

TEST(SplitTarget, QueryIsEverythingAfterTheFirstQuestionMark) {
  EXPECT_EQ(Split("/search?q=a&b=c"), Parts("/search", "q=a&b=c"));
  EXPECT_EQ(Split("/p?a=1?b=2"), Parts("/p", "a=1?b=2"));
  EXPECT_EQ(Split("/p?"), Parts("/p", ""));
}

TEST(SplitTarget, QueryKeepsItsPercentEscapesRaw) {
  EXPECT_EQ(Split("/p?name=J%C3%BCrgen+x&e=%2F"), Parts("/p", "name=J%C3%BCrgen+x&e=%2F"));
}

TEST(SplitTarget, AbsoluteFormYieldsItsPathAndQuery) {
  EXPECT_EQ(Split("http://example.com/a/b?x=1"), Parts("/a/b", "x=1"));
  EXPECT_EQ(Split("https://user@example.com:8443/p"), Parts("/p", ""));
}

TEST(SplitTarget, AbsoluteFormWithoutPathYieldsRoot) {
  EXPECT_EQ(Split("http://example.com"), Parts("/", ""));
  EXPECT_EQ(Split("http://example.com?x=1"), Parts("/", "x=1"));
}

TEST(SplitTarget, AsteriskFormIsKept) { EXPECT_EQ(Split("*"), Parts("*", "")); }

TEST(SplitTarget, FragmentIsDropped) {
  EXPECT_EQ(Split("/page#section"), Parts("/page", ""));
  EXPECT_EQ(Split("/page?x=1#section"), Parts("/page", "x=1"));
  EXPECT_EQ(Split("http://example.com/page#top"), Parts("/page", ""));
}

// Known bug (see the core report): the absolute-form "no path, query" shortcut returns before the
// fragment is dropped, and a fragment before a '?' leaves the '?' and what follows in the result.
TEST(SplitTarget, FragmentIsDroppedInEveryForm) {
  EXPECT_EQ(Split("http://example.com?x=1#top"), Parts("/", "x=1"));
  EXPECT_EQ(Split("/page#frag?not-a-query"), Parts("/page", ""));
}

TEST(SplitTarget, EmptyTargetYieldsEmptyParts) { EXPECT_EQ(Split(""), Parts("", "")); }

// --- PercentDecode ------------------------------------------------------------------------------

TEST(PercentDecode, DecodesEscapesOfEitherCase) {
  EXPECT_EQ(PercentDecode("/a%20b"), "/a b");
  EXPECT_EQ(PercentDecode("%7e%7E"), "~~");
  EXPECT_EQ(PercentDecode("%41"), "A");  // an escape that ends the input
}

TEST(PercentDecode, EncodedSlashBecomesAPlainSlashByte) {
  // The decoded path cannot tell %2F from '/': that is what raw_path is for.
  EXPECT_EQ(PercentDecode("/a%2Fb"), "/a/b");
  EXPECT_EQ(PercentDecode("/a%2fb"), "/a/b");
}

TEST(PercentDecode, MalformedEscapesAreKeptAsTheyAre) {
  EXPECT_EQ(PercentDecode("%"), "%");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%4"), "%4");
  EXPECT_EQ(PercentDecode("a%4"), "a%4");
  EXPECT_EQ(PercentDecode("%zz%4g%g4"), "%zz%4g%g4");
  EXPECT_EQ(PercentDecode("%%41"), "%A");
}

TEST(PercentDecode, DecodesToRawBytesIncludingUtf8AndNul) {
  EXPECT_EQ(PercentDecode("/caf%C3%A9"), "/caf\xC3\xA9");
  EXPECT_EQ(PercentDecode("%E2%82%AC"), "\xE2\x82\xAC");  // €
  EXPECT_EQ(PercentDecode("%F0%9F%98%80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(PercentDecode("%FF"), "\xFF");  // not UTF-8: still just a byte here
  EXPECT_EQ(PercentDecode("a%00b"), std::string("a\0b", 3));
}

TEST(PercentDecode, LeavesUnescapedBytesAlone) {
  EXPECT_EQ(PercentDecode(""), "");
  EXPECT_EQ(PercentDecode("/a+b/caf\xC3\xA9"), "/a+b/caf\xC3\xA9");  // '+' is not a space in paths
}

// --- Header names and values --------------------------------------------------------------------

TEST(IsHeaderName, AcceptsEveryTokenCharacter) {
  EXPECT_TRUE(IsHeaderName("content-type"));
  EXPECT_TRUE(IsHeaderName("X-Custom_Header.v2"));
  EXPECT_TRUE(IsHeaderName("!#$%&'*+-.^_`|~"));
  EXPECT_TRUE(IsHeaderName("a"));
  EXPECT_TRUE(IsHeaderName("0123456789"));
}

TEST(IsHeaderName, RefusesEmptyAndNonTokenCharacters) {
  EXPECT_FALSE(IsHeaderName(""));
  for (char c : std::string(" \t\r\n\"(),/:;<=>?@[\\]{}\x7f")) {
    EXPECT_FALSE(IsHeaderName(std::string("x") + c + "y")) << "character code " << int(c);
  }
  EXPECT_FALSE(IsHeaderName(std::string("x\0y", 3)));
  EXPECT_FALSE(IsHeaderName("caf\xC3\xA9"));
}

TEST(IsHeaderValue, AcceptsVisibleTextSpacesHtabAndObsText) {
  EXPECT_TRUE(IsHeaderValue(""));
  EXPECT_TRUE(IsHeaderValue("text/html; charset=utf-8"));
  EXPECT_TRUE(IsHeaderValue("a\tb"));
  EXPECT_TRUE(IsHeaderValue(" leading and trailing "));
  EXPECT_TRUE(IsHeaderValue("caf\xE9"));        // latin-1 obs-text
  EXPECT_TRUE(IsHeaderValue("caf\xC3\xA9"));    // UTF-8 bytes
}

TEST(IsHeaderValue, RefusesCrLfNulAndOtherControlBytes) {
  EXPECT_FALSE(IsHeaderValue("a\rb"));
  EXPECT_FALSE(IsHeaderValue("a\nb"));
  EXPECT_FALSE(IsHeaderValue("a\r\nSet-Cookie: x=1"));
  EXPECT_FALSE(IsHeaderValue(std::string("a\0b", 3)));
  EXPECT_FALSE(IsHeaderValue("\x01"));
  EXPECT_FALSE(IsHeaderValue("\x1f"));
  EXPECT_FALSE(IsHeaderValue("\x7f"));
}

TEST(LowerAscii, LowersOnlyAsciiLetters) {
  EXPECT_EQ(LowerAscii("Content-TYPE"), "content-type");
  EXPECT_EQ(LowerAscii("X-\xC3\x89"), "x-\xC3\x89");
  EXPECT_EQ(LowerAscii(""), "");
}

}  // namespace
