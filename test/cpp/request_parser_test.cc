// The llhttp glue of the native server: request heads, bodies, pipelining pauses, upgrades, limits
// (431) and the statuses of malformed requests (400, 505), against strict-mode llhttp 8.1.
#include "request_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::string_literals;
using node_asgi::Headers;
using node_asgi::server::ParsedRequest;
using node_asgi::server::RequestParser;
using node_asgi::server::RequestParserSink;
using Result = RequestParser::Result;

// Records everything the parser reports, one body string per request head.
class Recorder : public RequestParserSink {
 public:
  int OnRequestHead(ParsedRequest&& request) override {
    requests.push_back(std::move(request));
    bodies.emplace_back();
    return head_status;
  }
  void OnRequestBody(const char* data, size_t size) override {
    ASSERT_FALSE(bodies.empty()) << "body before any head";
    bodies.back().append(data, size);
    ++body_calls;
  }
  void OnRequestComplete() override { ++completes; }

  int head_status = 0;  // what OnRequestHead answers
  std::vector<ParsedRequest> requests;
  std::vector<std::string> bodies;
  int body_calls = 0;
  int completes = 0;
};

// Feeds `input` in pieces of `piece` bytes (0: all at once), resuming after every kPaused as a
// connection does. Returns the first kError/kUpgrade, else kNeedMore; *offset = bytes used.
Result Feed(RequestParser* parser, const std::string& input, size_t piece = 0, size_t* offset = nullptr) {
  if (piece == 0) piece = input.size();
  size_t pos = 0;
  while (pos < input.size()) {
    size_t end = std::min(input.size(), pos + piece);
    while (pos < end) {
      size_t consumed = 0;
      Result r = parser->Execute(input.data() + pos, end - pos, &consumed);
      EXPECT_LE(consumed, end - pos);
      pos += consumed;
      if (r == Result::kPaused) {
        parser->Resume();
        continue;
      }
      if (r == Result::kNeedMore) {
        EXPECT_EQ(pos, end);
        break;
      }
      if (offset) *offset = pos;
      return r;
    }
  }
  if (offset) *offset = pos;
  return Result::kNeedMore;
}

struct Outcome {
  Result result;
  int status;
  std::string reason;
  size_t heads;
};

Outcome Parse(const std::string& input, RequestParser::Limits limits = {}) {
  Recorder sink;
  RequestParser parser(&sink, limits);
  Result r = Feed(&parser, input);
  return {r, parser.error_status(), parser.error_reason(), sink.requests.size()};
}

const std::string kGet = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";

// --- Heads ---------------------------------------------------------------------------------------

TEST(RequestParser, SimpleGetHeadFields) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string input =
      "GET /items/42?q=a%20b&x=1 HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "X-Multi: one\r\n"
      "Accept: */*\r\n"
      "x-multi: two\r\n"
      "X-Empty:\r\n"
      "\r\n";
  size_t consumed = 0;
  EXPECT_EQ(parser.Execute(input.data(), input.size(), &consumed), Result::kPaused);
  EXPECT_EQ(consumed, input.size());
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.completes, 1);
  const ParsedRequest& request = sink.requests[0];
  ASSERT_TRUE(request.head);
  EXPECT_EQ(request.head->method, "GET");
  EXPECT_EQ(request.head->target, "/items/42?q=a%20b&x=1");
  EXPECT_EQ(request.head->http_version, "1.1");
  Headers expected = {{"Host", "example.com"}, {"X-Multi", "one"}, {"Accept", "*/*"}, {"x-multi", "two"}, {"X-Empty", ""}};
  EXPECT_EQ(request.head->headers, expected);
  EXPECT_TRUE(request.keep_alive);
  EXPECT_FALSE(request.has_body);
  EXPECT_FALSE(request.chunked);
  EXPECT_EQ(request.content_length, 0u);
  EXPECT_FALSE(request.expect_continue);
  EXPECT_FALSE(request.upgrade);
  EXPECT_TRUE(sink.bodies[0].empty());
  EXPECT_TRUE(parser.Idle());
  EXPECT_FALSE(parser.InHead());
  EXPECT_EQ(parser.error_status(), 0);
}

TEST(RequestParser, OtherMethodsAndAbsoluteTarget) {
  Recorder sink;
  RequestParser parser(&sink, {});
  EXPECT_EQ(Feed(&parser, "DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n"
                          "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"
                          "GET http://example.com/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n"),
            Result::kNeedMore);
  ASSERT_EQ(sink.requests.size(), 3u);
  EXPECT_EQ(sink.requests[0].head->method, "DELETE");
  EXPECT_EQ(sink.requests[1].head->method, "OPTIONS");
  EXPECT_EQ(sink.requests[1].head->target, "*");
  EXPECT_EQ(sink.requests[2].head->target, "http://example.com/p?q");
}

// llhttp 8.1 strips the OWS before a value but not after it; the glue trims the rest (as node:http).
TEST(RequestParser, HeaderValuesAreTrimmedOfSurroundingWhitespace) {
  Recorder sink;
  RequestParser parser(&sink, {});
  Feed(&parser, "GET / HTTP/1.1\r\nHost:   x  \r\nA:\tb c\t\r\n\r\n");
  ASSERT_EQ(sink.requests.size(), 1u);
  Headers expected = {{"Host", "x"}, {"A", "b c"}};
  EXPECT_EQ(sink.requests[0].head->headers, expected);
}

TEST(RequestParser, InHeadUntilTheHeadIsComplete) {
  Recorder sink;
  RequestParser parser(&sink, {});
  EXPECT_TRUE(parser.Idle());
  EXPECT_FALSE(parser.InHead());
  std::string part = "GET / HTTP/1.1\r\nHo";
  size_t consumed = 0;
  EXPECT_EQ(parser.Execute(part.data(), part.size(), &consumed), Result::kNeedMore);
  EXPECT_EQ(consumed, part.size());
  EXPECT_TRUE(parser.InHead());
  EXPECT_FALSE(parser.Idle());
  EXPECT_TRUE(sink.requests.empty());
  std::string rest = "st: x\r\n\r\n";
  EXPECT_EQ(parser.Execute(rest.data(), rest.size(), &consumed), Result::kPaused);
  EXPECT_FALSE(parser.InHead());
  EXPECT_TRUE(parser.Idle());
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.requests[0].head->headers, (Headers{{"Host", "x"}}));
}

// --- Keep-alive ----------------------------------------------------------------------------------

bool KeepAlive(const std::string& input) {
  Recorder sink;
  RequestParser parser(&sink, {});
  EXPECT_EQ(Feed(&parser, input), Result::kNeedMore) << input;
  EXPECT_EQ(sink.requests.size(), 1u) << input;
  return !sink.requests.empty() && sink.requests[0].keep_alive;
}

TEST(RequestParser, KeepAliveFollowsVersionAndConnectionHeader) {
  EXPECT_TRUE(KeepAlive("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(KeepAlive("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(KeepAlive("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n"));
  EXPECT_FALSE(KeepAlive("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(KeepAlive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(KeepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
}

TEST(RequestParser, Http10VersionString) {
  Recorder sink;
  RequestParser parser(&sink, {});
  Feed(&parser, "GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.requests[0].head->http_version, "1.0");
}

// --- Bodies --------------------------------------------------------------------------------------

TEST(RequestParser, ContentLengthBodyInPieces) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string head = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n";
  size_t consumed = 0;
  EXPECT_EQ(parser.Execute(head.data(), head.size(), &consumed), Result::kNeedMore);
  EXPECT_EQ(consumed, head.size());
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_TRUE(sink.requests[0].has_body);
  EXPECT_FALSE(sink.requests[0].chunked);
  EXPECT_EQ(sink.requests[0].content_length, 11u);
  EXPECT_EQ(sink.completes, 0);
  EXPECT_FALSE(parser.Idle());
  EXPECT_FALSE(parser.InHead());

  EXPECT_EQ(parser.Execute("hello", 5, &consumed), Result::kNeedMore);
  EXPECT_EQ(consumed, 5u);
  EXPECT_EQ(sink.bodies[0], "hello");
  EXPECT_EQ(sink.completes, 0);
  EXPECT_EQ(parser.Execute(" ", 1, &consumed), Result::kNeedMore);
  EXPECT_EQ(parser.Execute("world", 5, &consumed), Result::kPaused);
  EXPECT_EQ(consumed, 5u);
  EXPECT_EQ(sink.bodies[0], "hello world");
  EXPECT_EQ(sink.body_calls, 3);
  EXPECT_EQ(sink.completes, 1);
  EXPECT_TRUE(parser.Idle());
}

TEST(RequestParser, ContentLengthZeroHasNoBody) {
  Recorder sink;
  RequestParser parser(&sink, {});
  EXPECT_EQ(Feed(&parser, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), Result::kNeedMore);
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_FALSE(sink.requests[0].has_body);
  EXPECT_EQ(sink.requests[0].content_length, 0u);
  EXPECT_EQ(sink.completes, 1);
  EXPECT_EQ(sink.body_calls, 0);
}

TEST(RequestParser, ChunkedBody) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string input =
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n"
      "6;ext=1\r\n world\r\n"
      "A\r\n0123456789\r\n"
      "0\r\n\r\n";
  size_t consumed = 0;
  EXPECT_EQ(parser.Execute(input.data(), input.size(), &consumed), Result::kPaused);
  EXPECT_EQ(consumed, input.size());
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_TRUE(sink.requests[0].has_body);
  EXPECT_TRUE(sink.requests[0].chunked);
  EXPECT_EQ(sink.requests[0].content_length, 0u);
  EXPECT_EQ(sink.bodies[0], "hello world0123456789");
  EXPECT_EQ(sink.completes, 1);
}

// A chunked body's trailer fields come through llhttp's header callbacks after the head was handed
// over; they must not touch the (moved) head nor crash (they did: a null head_ dereference).
TEST(RequestParser, ChunkedBodyWithTrailers) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string input =
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
      "5\r\nhello\r\n"
      "0\r\nX-Sum: abc\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(Feed(&parser, input), Result::kNeedMore);
  ASSERT_EQ(sink.requests.size(), 2u);
  EXPECT_EQ(sink.bodies[0], "hello");
  EXPECT_EQ(sink.completes, 2);
  EXPECT_EQ(sink.requests[1].head->target, "/next");
  EXPECT_EQ(sink.requests[1].head->headers, (Headers{{"Host", "x"}}));
}

TEST(RequestParser, ExpectContinue) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string head = "PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n";
  size_t consumed = 0;
  EXPECT_EQ(parser.Execute(head.data(), head.size(), &consumed), Result::kNeedMore);
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_TRUE(sink.requests[0].expect_continue);
  EXPECT_TRUE(sink.requests[0].has_body);
  EXPECT_EQ(parser.Execute("abc", 3, &consumed), Result::kPaused);
  EXPECT_EQ(sink.bodies[0], "abc");

  Recorder other;
  RequestParser plain(&other, {});
  Feed(&plain, "PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: something-else\r\n\r\nabc");
  ASSERT_EQ(other.requests.size(), 1u);
  EXPECT_FALSE(other.requests[0].expect_continue);
}

// --- Upgrades ------------------------------------------------------------------------------------

TEST(RequestParser, WebSocketUpgradeStopsAtTheEndOfTheHead) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string head =
      "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  std::string frames = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  std::string input = head + frames;
  size_t consumed = 0;
  EXPECT_EQ(parser.Execute(input.data(), input.size(), &consumed), Result::kUpgrade);
  EXPECT_EQ(consumed, head.size());
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_TRUE(sink.requests[0].upgrade);
  EXPECT_EQ(sink.requests[0].head->target, "/chat");
  EXPECT_TRUE(sink.bodies[0].empty());
}

// Only a WebSocket upgrade leaves HTTP: h2c (or any other protocol) is served as a plain request
// and the connection stays HTTP/1.1, as uvicorn does.
TEST(RequestParser, H2cUpgradeIsServedAsPlainHttp) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string head =
      "GET /a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
  std::string next = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string input = head + next;
  size_t consumed = 0;
  EXPECT_EQ(parser.Execute(input.data(), input.size(), &consumed), Result::kPaused);
  EXPECT_EQ(consumed, head.size());
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_FALSE(sink.requests[0].upgrade);
  EXPECT_TRUE(sink.requests[0].keep_alive);
  EXPECT_EQ(sink.completes, 1);

  parser.Resume();
  EXPECT_EQ(parser.Execute(next.data(), next.size(), &consumed), Result::kPaused);
  EXPECT_EQ(consumed, next.size());
  ASSERT_EQ(sink.requests.size(), 2u);
  EXPECT_EQ(sink.requests[1].head->target, "/b");
}

TEST(RequestParser, RefusedWebSocketUpgradeGoesOnParsingHttp) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string head = "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n\r\n";
  std::string next = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string input = head + next;
  size_t consumed = 0;
  EXPECT_EQ(parser.Execute(input.data(), input.size(), &consumed), Result::kUpgrade);
  EXPECT_EQ(consumed, head.size());
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_TRUE(sink.requests[0].upgrade);

  parser.ResumeAfterUpgrade();
  EXPECT_EQ(parser.Execute(next.data(), next.size(), &consumed), Result::kPaused);
  EXPECT_EQ(consumed, next.size());
  ASSERT_EQ(sink.requests.size(), 2u);
  EXPECT_FALSE(sink.requests[1].upgrade);
  EXPECT_EQ(sink.requests[1].head->target, "/b");
}

TEST(RequestParser, UpgradeHeaderWithoutConnectionUpgradeIsNotAnUpgrade) {
  Recorder sink;
  RequestParser parser(&sink, {});
  EXPECT_EQ(Feed(&parser, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"), Result::kNeedMore);
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_FALSE(sink.requests[0].upgrade);
}

// --- Pipelining ----------------------------------------------------------------------------------

TEST(RequestParser, PipelinedRequestsPauseAfterEachInOrder) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string first = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string second = "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody";
  std::string third = "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string partial = "GET /4 HT";
  std::string input = first + second + third + partial;

  size_t consumed = 0;
  const char* at = input.data();
  size_t left = input.size();
  EXPECT_EQ(parser.Execute(at, left, &consumed), Result::kPaused);
  EXPECT_EQ(consumed, first.size());
  EXPECT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.completes, 1);
  at += consumed, left -= consumed;

  parser.Resume();
  EXPECT_EQ(parser.Execute(at, left, &consumed), Result::kPaused);
  EXPECT_EQ(consumed, second.size());
  ASSERT_EQ(sink.requests.size(), 2u);
  EXPECT_EQ(sink.requests[1].head->target, "/2");
  EXPECT_EQ(sink.bodies[1], "body");
  EXPECT_EQ(sink.completes, 2);
  at += consumed, left -= consumed;

  parser.Resume();
  EXPECT_EQ(parser.Execute(at, left, &consumed), Result::kPaused);
  EXPECT_EQ(consumed, third.size());
  EXPECT_EQ(sink.requests.size(), 3u);
  at += consumed, left -= consumed;

  parser.Resume();
  EXPECT_EQ(parser.Execute(at, left, &consumed), Result::kNeedMore);
  EXPECT_EQ(consumed, partial.size());
  EXPECT_EQ(sink.requests.size(), 3u);
  EXPECT_TRUE(parser.InHead());
  EXPECT_EQ(sink.completes, 3);

  std::string end = "TP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(parser.Execute(end.data(), end.size(), &consumed), Result::kPaused);
  ASSERT_EQ(sink.requests.size(), 4u);
  EXPECT_EQ(sink.requests[3].head->target, "/4");
  EXPECT_EQ(sink.requests[0].head->target, "/1");
  EXPECT_EQ(sink.requests[2].head->target, "/3");
}

TEST(RequestParser, ByteAtATimeEqualsWholeFeeding) {
  std::string input =
      "GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
      "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n0123456789"
      "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
      "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x80";
  Recorder whole_sink, byte_sink, odd_sink;
  RequestParser whole(&whole_sink, {}), bytes(&byte_sink, {}), odd(&odd_sink, {});
  size_t whole_at = 0, bytes_at = 0, odd_at = 0;
  EXPECT_EQ(Feed(&whole, input, 0, &whole_at), Result::kUpgrade);
  EXPECT_EQ(Feed(&bytes, input, 1, &bytes_at), Result::kUpgrade);
  EXPECT_EQ(Feed(&odd, input, 7, &odd_at), Result::kUpgrade);
  EXPECT_EQ(whole_at, input.size() - 2);
  EXPECT_EQ(bytes_at, whole_at);
  EXPECT_EQ(odd_at, whole_at);

  for (const Recorder* sink : {&byte_sink, &odd_sink}) {
    ASSERT_EQ(sink->requests.size(), whole_sink.requests.size());
    EXPECT_EQ(sink->completes, whole_sink.completes);
    EXPECT_EQ(sink->bodies, whole_sink.bodies);
    for (size_t i = 0; i < whole_sink.requests.size(); i++) {
      const ParsedRequest& a = whole_sink.requests[i];
      const ParsedRequest& b = sink->requests[i];
      EXPECT_EQ(a.head->method, b.head->method);
      EXPECT_EQ(a.head->target, b.head->target);
      EXPECT_EQ(a.head->http_version, b.head->http_version);
      EXPECT_EQ(a.head->headers, b.head->headers);
      EXPECT_EQ(a.keep_alive, b.keep_alive);
      EXPECT_EQ(a.has_body, b.has_body);
      EXPECT_EQ(a.chunked, b.chunked);
      EXPECT_EQ(a.content_length, b.content_length);
      EXPECT_EQ(a.expect_continue, b.expect_continue);
      EXPECT_EQ(a.upgrade, b.upgrade);
    }
  }
  ASSERT_EQ(whole_sink.requests.size(), 4u);
  EXPECT_EQ(whole_sink.completes, 4);
  EXPECT_EQ(whole_sink.requests[0].head->headers, (Headers{{"Host", "x"}, {"X-A", "1"}, {"x-a", "2"}}));
  EXPECT_EQ(whole_sink.bodies[1], "0123456789");
  EXPECT_TRUE(whole_sink.requests[1].expect_continue);
  EXPECT_EQ(whole_sink.bodies[2], "abc0123456789abcdef");
  EXPECT_TRUE(whole_sink.requests[3].upgrade);
}

// --- Limits --------------------------------------------------------------------------------------

TEST(RequestParser, HeaderBlockOverMaxHeaderSizeIs431) {
  RequestParser::Limits limits;
  limits.max_header_size = 1024;
  Outcome ok = Parse("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(900, 'a') + "\r\n\r\n", limits);
  EXPECT_EQ(ok.result, Result::kNeedMore);
  EXPECT_EQ(ok.heads, 1u);

  Outcome big = Parse("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1100, 'a') + "\r\n\r\n", limits);
  EXPECT_EQ(big.result, Result::kError);
  EXPECT_EQ(big.status, 431);
  EXPECT_EQ(big.heads, 0u);

  // Spread over many fields, and a long target, count too.
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 40; i++) many += "X-" + std::to_string(i) + ": " + std::string(20, 'v') + "\r\n";
  many += "\r\n";
  EXPECT_EQ(Parse(many, limits).status, 431);
  EXPECT_EQ(Parse("GET /" + std::string(1100, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n", limits).status, 431);
}

TEST(RequestParser, HeaderSizeLimitHoldsWhenFedByteAtATime) {
  RequestParser::Limits limits;
  limits.max_header_size = 1024;
  Recorder sink;
  RequestParser parser(&sink, limits);
  std::string input = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1100, 'a') + "\r\n\r\n";
  size_t at = 0;
  EXPECT_EQ(Feed(&parser, input, 1, &at), Result::kError);
  EXPECT_EQ(parser.error_status(), 431);
  EXPECT_LT(at, input.size());
  EXPECT_TRUE(sink.requests.empty());
}

TEST(RequestParser, BodyDoesNotCountAgainstMaxHeaderSize) {
  RequestParser::Limits limits;
  limits.max_header_size = 256;
  Recorder sink;
  RequestParser parser(&sink, limits);
  std::string body(4096, 'b');
  EXPECT_EQ(Feed(&parser, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + body), Result::kNeedMore);
  ASSERT_EQ(sink.bodies.size(), 1u);
  EXPECT_EQ(sink.bodies[0], body);
}

TEST(RequestParser, HeaderSizeCountsEachRequestAfresh) {
  RequestParser::Limits limits;
  limits.max_header_size = 200;
  Recorder sink;
  RequestParser parser(&sink, limits);
  std::string one = "GET / HTTP/1.1\r\nHost: x\r\nX-V: " + std::string(100, 'a') + "\r\n\r\n";
  EXPECT_EQ(Feed(&parser, one + one + one), Result::kNeedMore);
  EXPECT_EQ(sink.requests.size(), 3u);
}

TEST(RequestParser, MoreThanMaxHeaderCountFieldsIs431) {
  RequestParser::Limits limits;
  limits.max_header_count = 3;
  Outcome ok = Parse("GET / HTTP/1.1\r\nHost: x\r\nB: 2\r\nC: 3\r\n\r\n", limits);
  EXPECT_EQ(ok.result, Result::kNeedMore);
  EXPECT_EQ(ok.heads, 1u);
  Outcome over = Parse("GET / HTTP/1.1\r\nHost: x\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits);
  EXPECT_EQ(over.result, Result::kError);
  EXPECT_EQ(over.status, 431);
  EXPECT_EQ(over.heads, 0u);
}

TEST(RequestParser, HeaderCountHoldsWhenFedByteAtATime) {
  RequestParser::Limits limits;
  limits.max_header_count = 3;
  Recorder sink;
  RequestParser parser(&sink, limits);
  // Names split across reads are one field, not several.
  EXPECT_EQ(Feed(&parser, "GET / HTTP/1.1\r\nHost: x\r\nBcd: 2\r\nCde: 3\r\n\r\n", 1), Result::kNeedMore);
  EXPECT_EQ(sink.requests.size(), 1u);
  Recorder over_sink;
  RequestParser over(&over_sink, limits);
  EXPECT_EQ(Feed(&over, "GET / HTTP/1.1\r\nHost: x\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 1), Result::kError);
  EXPECT_EQ(over.error_status(), 431);
}

// --- Refusals and malformed requests ----------------------------------------------------------------

TEST(RequestParser, SinkRefusingTheHeadStopsWithItsStatus) {
  Recorder sink;
  sink.head_status = 413;
  RequestParser parser(&sink, {});
  size_t at = 0;
  EXPECT_EQ(Feed(&parser, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 0, &at), Result::kError);
  EXPECT_EQ(parser.error_status(), 413);
  EXPECT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.body_calls, 0);
  EXPECT_EQ(sink.completes, 0);
}

TEST(RequestParser, Http2VersionIs505) {
  Outcome o = Parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n");
  EXPECT_EQ(o.result, Result::kError);
  EXPECT_EQ(o.status, 505);
  EXPECT_EQ(o.heads, 0u);
}

void ExpectBadRequest(const std::string& input, const char* what) {
  for (size_t piece : {size_t{0}, size_t{1}}) {
    Recorder sink;
    RequestParser parser(&sink, {});
    Result r = Feed(&parser, input, piece);
    EXPECT_EQ(r, Result::kError) << what << " (piece " << piece << ")";
    EXPECT_EQ(parser.error_status(), 400) << what << " (piece " << piece << ")";
    EXPECT_FALSE(parser.error_reason().empty()) << what;
    // Whatever the sink saw, the request never completed.
    EXPECT_EQ(sink.completes, 0) << what << " (piece " << piece << ")";
  }
}

TEST(RequestParser, BadMethodTokenIs400) {
  ExpectBadRequest("G@T / HTTP/1.1\r\nHost: x\r\n\r\n", "G@T");
  ExpectBadRequest("FOO / HTTP/1.1\r\nHost: x\r\n\r\n", "unknown method");
  ExpectBadRequest("get / HTTP/1.1\r\nHost: x\r\n\r\n", "lower-case method");
  ExpectBadRequest("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s, "TLS ClientHello");
}

TEST(RequestParser, BadVersionIs400) {
  ExpectBadRequest("GET / HTTP/1.x\r\nHost: x\r\n\r\n", "HTTP/1.x");
  ExpectBadRequest("GET / HTTX/1.1\r\nHost: x\r\n\r\n", "HTTX");
  ExpectBadRequest("GET / HTTP/11\r\nHost: x\r\n\r\n", "HTTP/11");
}

// RFC 9112 §3: recipients MAY parse the request line on whitespace-delimited word boundaries;
// llhttp 8.1 (strict) does, and so does the server: "GET /  HTTP/1.1" has the target "/".
TEST(RequestParser, ExtraSpacesInTheRequestLineAreTolerated) {
  Recorder sink;
  RequestParser parser(&sink, {});
  Feed(&parser, "GET /  HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.requests[0].head->target, "/");
}

TEST(RequestParser, ContentLengthWithTransferEncodingIs400) {
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                   "CL then TE");
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                   "TE then CL");
}

TEST(RequestParser, TransferEncodingNotEndingInChunkedIs400) {
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc", "TE gzip");
}

TEST(RequestParser, BadContentLengthIs400) {
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "duplicate CL");
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", "CL list");
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "CL not a number");
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "negative CL");
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", "CL overflow");
}

TEST(RequestParser, BadChunkSizeIs400) {
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "chunk size zz");
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", "chunk size -5");
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n", "chunk size overflow");
  ExpectBadRequest("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", "no CRLF after chunk data");
}

TEST(RequestParser, ControlByteInHeaderValueIs400) {
  ExpectBadRequest("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01" "b\r\n\r\n", "\\x01 in a value");
  ExpectBadRequest("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f" "b\r\n\r\n", "DEL in a value");
  ExpectBadRequest("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", "bare CR in a value");
}

TEST(RequestParser, BadHeaderNameIs400) {
  ExpectBadRequest("GET / HTTP/1.1\r\nHost : x\r\n\r\n", "space before the colon");
  ExpectBadRequest("GET / HTTP/1.1\r\nX(A): x\r\n\r\n", "separator in a name");
}

// Strict llhttp 8.1 accepts ": x" (an empty name); the glue refuses it.
TEST(RequestParser, EmptyHeaderNameIs400) {
  ExpectBadRequest("GET / HTTP/1.1\r\n: x\r\n\r\n", "empty name");
}

// Strict llhttp 8.1 joins an obs-fold line into the value ("one two"); the glue's head scan
// refuses it (RFC 9112 5.2 allows either; llhttp 9 rejects it by default).
TEST(RequestParser, ObsFoldIs400) {
  ExpectBadRequest("GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n", "obs-fold with a space");
  ExpectBadRequest("GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n\r\n", "obs-fold with a tab");
}

TEST(RequestParser, BareLfLineEndingsAre400) {
  ExpectBadRequest("GET / HTTP/1.1\nHost: x\n\n", "all bare LF");
  ExpectBadRequest("GET / HTTP/1.1\nHost: x\r\n\r\n", "bare LF after the request line");
  ExpectBadRequest("GET / HTTP/1.1\r\nHost: x\n\r\n", "bare LF after a header value");
}

// Strict llhttp 8.1 takes a bare LF as the empty line ending the head ("Host: x\r\n\n"); the
// glue's head scan refuses it.
TEST(RequestParser, BareLfEndingTheHeadIs400) {
  ExpectBadRequest("GET / HTTP/1.1\r\nHost: x\r\n\n", "bare LF ending the head");
}

TEST(RequestParser, NulIs400) {
  ExpectBadRequest("GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n"s, "NUL in the target");
  ExpectBadRequest("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"s, "NUL in a value");
  ExpectBadRequest("GET / HTTP/1.1\r\nX\0A: a\r\n\r\n"s, "NUL in a name");
  ExpectBadRequest("\0GET / HTTP/1.1\r\n\r\n"s, "NUL before the method");
}

TEST(RequestParser, Http11NeedsExactlyOneHost) {
  ExpectBadRequest("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", "no Host on 1.1");
  ExpectBadRequest("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "two Hosts");
  ExpectBadRequest("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", "two Hosts on 1.0");
  EXPECT_EQ(Parse("GET / HTTP/1.0\r\n\r\n").result, Result::kNeedMore);  // 1.0 may omit it
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHOST: x\r\n\r\n").heads, 1u);
}

TEST(RequestParser, ErrorsAreSticky) {
  Recorder sink;
  RequestParser parser(&sink, {});
  std::string bad = "FOO / HTTP/1.1\r\n\r\n";
  size_t consumed = 0;
  EXPECT_EQ(parser.Execute(bad.data(), bad.size(), &consumed), Result::kError);
  EXPECT_EQ(parser.Execute(kGet.data(), kGet.size(), &consumed), Result::kError);
  EXPECT_EQ(parser.error_status(), 400);
  EXPECT_TRUE(sink.requests.empty());
}

}  // namespace
