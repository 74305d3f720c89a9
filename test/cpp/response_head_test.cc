// Response serialisation of the native server: status line and headers, the framing decision,
// keep-alive, Date/Server defaults, chunks, canned plain responses and the Date cache.
#include "response_head.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

using node_asgi::Headers;
using node_asgi::server::AppendChunk;
using node_asgi::server::AppendResponseHead;
using node_asgi::server::DateCache;
using node_asgi::server::Framing;
using node_asgi::server::kLastChunk;
using node_asgi::server::PlainResponse;
using node_asgi::server::ReasonPhrase;
using node_asgi::server::RequestFacts;
using node_asgi::server::ResponsePlan;

const std::string kDate = "Thu, 01 Jan 1970 00:00:00 GMT";

RequestFacts Facts(bool head_method = false, bool http10 = false, bool keep_alive = true) {
  RequestFacts facts;
  facts.head_method = head_method;
  facts.http10 = http10;
  facts.keep_alive = keep_alive;
  return facts;
}

struct Written {
  ResponsePlan plan;
  std::string text;
};

Written Head(int status, const Headers& headers, RequestFacts facts = Facts(), const std::string& date = kDate,
             const std::string& server = "node-asgi") {
  Written w;
  w.plan = AppendResponseHead(&w.text, status, headers, facts, date, server);
  return w;
}

// Occurrences of "\r\n<name>:" in a head, case-insensitively (names are at line starts).
int CountHeader(const std::string& text, const std::string& name) {
  std::string lower_text, needle = "\r\n";
  for (char c : text) lower_text += static_cast<char>(tolower(static_cast<unsigned char>(c)));
  for (char c : name) needle += static_cast<char>(tolower(static_cast<unsigned char>(c)));
  needle += ":";
  int n = 0;
  for (size_t at = lower_text.find(needle); at != std::string::npos; at = lower_text.find(needle, at + 1)) ++n;
  return n;
}

bool EndsHead(const std::string& text) {
  return text.size() >= 4 && text.compare(text.size() - 4, 4, "\r\n\r\n") == 0;
}

// --- Exact bytes ---------------------------------------------------------------------------------

TEST(ResponseHead, SmallResponseExactBytes) {
  Written w = Head(200, {{"content-type", "text/plain"}, {"content-length", "5"}});
  EXPECT_EQ(w.text,
            "HTTP/1.1 200 OK\r\n"
            "date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "server: node-asgi\r\n"
            "content-type: text/plain\r\n"
            "content-length: 5\r\n"
            "\r\n");
  EXPECT_EQ(w.plan.framing, Framing::kLength);
  EXPECT_EQ(w.plan.length, 5u);
  EXPECT_TRUE(w.plan.keep_alive);
}

TEST(ResponseHead, ChunkedResponseExactBytes) {
  Written w = Head(404, {{"X-Custom", "A b"}, {"x-custom", "c"}}, Facts(), "", "");
  EXPECT_EQ(w.text,
            "HTTP/1.1 404 Not Found\r\n"
            "X-Custom: A b\r\n"
            "x-custom: c\r\n"
            "transfer-encoding: chunked\r\n"
            "\r\n");
  EXPECT_EQ(w.plan.framing, Framing::kChunked);
}

TEST(ResponseHead, AppendsToWhatIsAlreadyThere) {
  std::string out = "previous";
  AppendResponseHead(&out, 204, {}, Facts(), "", "");
  EXPECT_EQ(out, "previousHTTP/1.1 204 No Content\r\n\r\n");
}

TEST(ResponseHead, UnknownStatusHasAnEmptyReason) {
  Written w = Head(299, {{"content-length", "0"}}, Facts(), "", "");
  EXPECT_EQ(w.text, "HTTP/1.1 299 \r\ncontent-length: 0\r\n\r\n");
}

// --- Framing -------------------------------------------------------------------------------------

TEST(ResponseHead, ContentLengthFraming) {
  Written w = Head(200, {{"Content-Length", "1234567890123"}});
  EXPECT_EQ(w.plan.framing, Framing::kLength);
  EXPECT_EQ(w.plan.length, 1234567890123u);
  EXPECT_EQ(CountHeader(w.text, "transfer-encoding"), 0);
  EXPECT_EQ(CountHeader(w.text, "connection"), 0);
  EXPECT_TRUE(w.plan.keep_alive);

  Written zero = Head(200, {{"content-length", "0"}});
  EXPECT_EQ(zero.plan.framing, Framing::kLength);
  EXPECT_EQ(zero.plan.length, 0u);
}

TEST(ResponseHead, ChunkedOnHttp11WithoutContentLength) {
  Written w = Head(200, {{"content-type", "text/html"}});
  EXPECT_EQ(w.plan.framing, Framing::kChunked);
  EXPECT_TRUE(w.plan.keep_alive);
  EXPECT_EQ(CountHeader(w.text, "transfer-encoding"), 1);
  EXPECT_NE(w.text.find("\r\ntransfer-encoding: chunked\r\n"), std::string::npos);
  EXPECT_TRUE(EndsHead(w.text));
}

TEST(ResponseHead, AppTransferEncodingIsKeptAndMeansChunked) {
  Written w = Head(200, {{"Transfer-Encoding", "chunked"}, {"content-length", "10"}});
  EXPECT_EQ(w.plan.framing, Framing::kChunked);
  EXPECT_EQ(CountHeader(w.text, "transfer-encoding"), 1);
  EXPECT_NE(w.text.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos);
}

// An app Content-Length that is not a plain number never goes out (the app's send() already raises
// for it, see ParseResponseStart): a response never carries it next to chunked (RFC 9112 §6.1).
TEST(ResponseHead, InvalidAppContentLengthIsNotSentNextToChunked) {
  for (const char* value : {"abc", " 5", "", "5, 5", "-1"}) {
    Written w = Head(200, {{"content-length", value}});
    EXPECT_FALSE(CountHeader(w.text, "content-length") == 1 && CountHeader(w.text, "transfer-encoding") == 1)
        << "[" << value << "]\n" << w.text;
  }
}

TEST(ResponseHead, CloseDelimitedOnHttp10WithoutContentLength) {
  Written w = Head(200, {{"content-type", "text/plain"}}, Facts(false, true, true));
  EXPECT_EQ(w.plan.framing, Framing::kUntilClose);
  EXPECT_FALSE(w.plan.keep_alive);
  EXPECT_EQ(CountHeader(w.text, "transfer-encoding"), 0);
  EXPECT_EQ(CountHeader(w.text, "connection"), 1);
  EXPECT_NE(w.text.find("\r\nconnection: close\r\n"), std::string::npos);
  EXPECT_EQ(w.text.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);  // always answered as HTTP/1.1
}

TEST(ResponseHead, NoBodyForHead) {
  Written w = Head(200, {{"content-length", "42"}}, Facts(true));
  EXPECT_EQ(w.plan.framing, Framing::kNoBody);
  EXPECT_TRUE(w.plan.keep_alive);
  EXPECT_NE(w.text.find("\r\ncontent-length: 42\r\n"), std::string::npos);  // the app's header stands

  Written bare = Head(200, {}, Facts(true));
  EXPECT_EQ(bare.plan.framing, Framing::kNoBody);
  EXPECT_EQ(CountHeader(bare.text, "transfer-encoding"), 0);
  EXPECT_TRUE(bare.plan.keep_alive);

  Written http10 = Head(200, {}, Facts(true, true, true));
  EXPECT_EQ(http10.plan.framing, Framing::kNoBody);
  EXPECT_TRUE(http10.plan.keep_alive);
  EXPECT_NE(http10.text.find("\r\nconnection: keep-alive\r\n"), std::string::npos);
}

TEST(ResponseHead, NoBodyFor1xx204And304) {
  for (int status : {100, 101, 103, 204, 304}) {
    Written w = Head(status, {});
    EXPECT_EQ(w.plan.framing, Framing::kNoBody) << status;
    EXPECT_TRUE(w.plan.keep_alive) << status;
    EXPECT_EQ(CountHeader(w.text, "transfer-encoding"), 0) << status;
    EXPECT_EQ(CountHeader(w.text, "content-length"), 0) << status;
  }
  // Not even close-delimited on HTTP/1.0.
  Written w = Head(304, {}, Facts(false, true, true));
  EXPECT_EQ(w.plan.framing, Framing::kNoBody);
  EXPECT_TRUE(w.plan.keep_alive);
}

TEST(ResponseHead, StatusesAroundTheNoBodyOnesHaveBodies) {
  for (int status : {200, 205, 206, 303, 305, 400, 500}) {
    EXPECT_EQ(Head(status, {}).plan.framing, Framing::kChunked) << status;
  }
}

// --- Keep-alive and Connection -------------------------------------------------------------------

TEST(ResponseHead, Http11KeepAliveNeedsNoConnectionHeader) {
  Written w = Head(200, {{"content-length", "0"}});
  EXPECT_TRUE(w.plan.keep_alive);
  EXPECT_EQ(CountHeader(w.text, "connection"), 0);
}

TEST(ResponseHead, Http10KeepAliveSaysSo) {
  Written w = Head(200, {{"content-length", "3"}}, Facts(false, true, true));
  EXPECT_EQ(w.plan.framing, Framing::kLength);
  EXPECT_TRUE(w.plan.keep_alive);
  EXPECT_EQ(CountHeader(w.text, "connection"), 1);
  EXPECT_NE(w.text.find("\r\nconnection: keep-alive\r\n"), std::string::npos);
}

TEST(ResponseHead, RequestWithoutKeepAliveGetsConnectionClose) {
  Written w = Head(200, {{"content-length", "3"}}, Facts(false, false, false));
  EXPECT_FALSE(w.plan.keep_alive);
  EXPECT_EQ(CountHeader(w.text, "connection"), 1);
  EXPECT_NE(w.text.find("\r\nconnection: close\r\n"), std::string::npos);

  Written http10 = Head(200, {{"content-length", "3"}}, Facts(false, true, false));
  EXPECT_FALSE(http10.plan.keep_alive);
  EXPECT_NE(http10.text.find("\r\nconnection: close\r\n"), std::string::npos);
}

TEST(ResponseHead, AppConnectionCloseEndsKeepAliveWithoutADuplicate) {
  Written w = Head(200, {{"Connection", "close"}, {"content-length", "2"}});
  EXPECT_FALSE(w.plan.keep_alive);
  EXPECT_EQ(w.plan.framing, Framing::kLength);
  EXPECT_EQ(CountHeader(w.text, "connection"), 1);
  EXPECT_NE(w.text.find("\r\nConnection: close\r\n"), std::string::npos);

  // On HTTP/1.0 keep-alive too: no "connection: keep-alive" next to the app's close.
  Written http10 = Head(200, {{"connection", "Close"}, {"content-length", "2"}}, Facts(false, true, true));
  EXPECT_FALSE(http10.plan.keep_alive);
  EXPECT_EQ(CountHeader(http10.text, "connection"), 1);

  // A token in a list counts; a mere substring does not.
  EXPECT_FALSE(Head(200, {{"Connection", "keep-alive, CLOSE"}}).plan.keep_alive);
  EXPECT_TRUE(Head(200, {{"Connection", "closed"}}).plan.keep_alive);
  EXPECT_TRUE(Head(200, {{"Connection", "x-close-y"}}).plan.keep_alive);
}

TEST(ResponseHead, ConnectionCloseAndTheRequestsKeepAliveCombine) {
  // The app cannot turn keep-alive back on.
  Written w = Head(200, {{"Connection", "keep-alive"}, {"content-length", "0"}}, Facts(false, false, false));
  EXPECT_FALSE(w.plan.keep_alive);
}

// --- Date and Server -----------------------------------------------------------------------------

TEST(ResponseHead, AppDateAndServerWinOverTheDefaults) {
  Written w = Head(200, {{"Date", "Mon, 02 Jan 2006 15:04:05 GMT"}, {"SERVER", "mine"}, {"content-length", "0"}});
  EXPECT_EQ(w.text,
            "HTTP/1.1 200 OK\r\n"
            "Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n"
            "SERVER: mine\r\n"
            "content-length: 0\r\n"
            "\r\n");
}

TEST(ResponseHead, OnlyTheMissingDefaultIsAdded) {
  Written w = Head(200, {{"server", "mine"}, {"content-length", "0"}});
  EXPECT_EQ(CountHeader(w.text, "server"), 1);
  EXPECT_EQ(CountHeader(w.text, "date"), 1);
  EXPECT_NE(w.text.find("\r\ndate: " + kDate + "\r\n"), std::string::npos);
  EXPECT_NE(w.text.find("\r\nserver: mine\r\n"), std::string::npos);
}

TEST(ResponseHead, EmptyServerHeaderOmitsIt) {
  Written w = Head(200, {{"content-length", "0"}}, Facts(), kDate, "");
  EXPECT_EQ(CountHeader(w.text, "server"), 0);
  EXPECT_EQ(CountHeader(w.text, "date"), 1);
  Written no_date = Head(200, {{"content-length", "0"}}, Facts(), "", "srv");
  EXPECT_EQ(CountHeader(no_date.text, "date"), 0);
  EXPECT_EQ(CountHeader(no_date.text, "server"), 1);
}

// --- Chunks --------------------------------------------------------------------------------------

TEST(ResponseHead, AppendChunkHexSizes) {
  std::string out;
  AppendChunk(&out, "hello", 5);
  EXPECT_EQ(out, "5\r\nhello\r\n");

  out.clear();
  AppendChunk(&out, "", 0);
  EXPECT_EQ(out, "");  // an empty piece would be the last chunk: nothing

  for (size_t size : {size_t{10}, size_t{15}, size_t{16}, size_t{255}, size_t{4096}, size_t{65537}}) {
    std::string data(size, 'x');
    out.clear();
    AppendChunk(&out, data.data(), data.size());
    char line[32];
    snprintf(line, sizeof line, "%zx\r\n", size);
    EXPECT_EQ(out, std::string(line) + data + "\r\n") << size;
  }
  out.clear();
  std::string big(0xabc, 'y');
  AppendChunk(&out, big.data(), big.size());
  EXPECT_EQ(out.compare(0, 5, "abc\r\n"), 0);

  out = "0123";
  AppendChunk(&out, "ab", 2);
  EXPECT_EQ(out, "01232\r\nab\r\n");
  EXPECT_STREQ(kLastChunk, "0\r\n\r\n");
}

// --- Plain responses -----------------------------------------------------------------------------

TEST(ResponseHead, PlainResponseBytes) {
  EXPECT_EQ(PlainResponse(400, kDate, "node-asgi"),
            "HTTP/1.1 400 Bad Request\r\n"
            "date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "server: node-asgi\r\n"
            "content-type: text/plain; charset=utf-8\r\n"
            "content-length: 11\r\n"
            "connection: close\r\n"
            "\r\n"
            "Bad Request");
  EXPECT_EQ(PlainResponse(431, "", ""),
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
            "content-type: text/plain; charset=utf-8\r\n"
            "content-length: 31\r\n"
            "connection: close\r\n"
            "\r\n"
            "Request Header Fields Too Large");
  EXPECT_EQ(PlainResponse(503, "", "", "Server shutting down\n"),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "content-type: text/plain; charset=utf-8\r\n"
            "content-length: 21\r\n"
            "connection: close\r\n"
            "\r\n"
            "Server shutting down\n");
}

// --- Reason phrases ------------------------------------------------------------------------------

TEST(ResponseHead, ReasonPhrases) {
  EXPECT_STREQ(ReasonPhrase(100), "Continue");
  EXPECT_STREQ(ReasonPhrase(101), "Switching Protocols");
  EXPECT_STREQ(ReasonPhrase(200), "OK");
  EXPECT_STREQ(ReasonPhrase(204), "No Content");
  EXPECT_STREQ(ReasonPhrase(304), "Not Modified");
  EXPECT_STREQ(ReasonPhrase(400), "Bad Request");
  EXPECT_STREQ(ReasonPhrase(404), "Not Found");
  EXPECT_STREQ(ReasonPhrase(413), "Payload Too Large");
  EXPECT_STREQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_STREQ(ReasonPhrase(500), "Internal Server Error");
  EXPECT_STREQ(ReasonPhrase(503), "Service Unavailable");
  EXPECT_STREQ(ReasonPhrase(505), "HTTP Version Not Supported");
  for (int unknown : {0, 99, 199, 299, 306, 420, 599, 600, 1000, -1}) EXPECT_STREQ(ReasonPhrase(unknown), "") << unknown;
}

// --- Date cache ----------------------------------------------------------------------------------

TEST(DateCache, ImfFixdate) {
  DateCache cache;
  EXPECT_EQ(cache.Get(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(cache.Get(1700000000), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(cache.Get(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(cache.Get(4102444799), "Thu, 31 Dec 2099 23:59:59 GMT");
  EXPECT_EQ(cache.Get(0), "Thu, 01 Jan 1970 00:00:00 GMT");  // back again: not stuck on the last one
}

TEST(DateCache, SameSecondReturnsTheCachedText) {
  DateCache cache;
  const std::string& a = cache.Get(1700000000);
  const char* data = a.data();
  const std::string& b = cache.Get(1700000000);
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b.size(), strlen("Tue, 14 Nov 2023 22:13:20 GMT"));
  EXPECT_EQ(cache.Get(1700000001), "Tue, 14 Nov 2023 22:13:21 GMT");
}

}  // namespace
