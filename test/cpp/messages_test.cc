// Validation of the messages an app sends: http.response.start / body and their headers, with the
// exception type and wording an app sees (TypeError, ValueError, KeyError, RuntimeError).
#include <gtest/gtest.h>

#include <string>

#include "conversions.h"
#include "python_test_env.h"

namespace {

namespace py = pybind11;
using node_asgi::CopyBytesLike;
using node_asgi::Headers;
using node_asgi::ParseHeaders;
using node_asgi::ParseResponseBody;
using node_asgi::ParseResponseStart;
using node_asgi_test::Eval;
using node_asgi_test::ThrowsExactly;
using node_asgi_test::ThrowsPythonError;

struct Start {
  int status = 0;
  Headers headers;
};

Start ParseStart(const char* message_expression) {
  Start start;
  ParseResponseStart(Eval(message_expression), &start.status, &start.headers);
  return start;
}

std::pair<std::string, bool> ParseBody(const char* message_expression) {
  std::string body;
  bool more = ParseResponseBody(Eval(message_expression), &body);
  return {body, more};
}

// --- http.response.start ------------------------------------------------------------------------

TEST(ParseResponseStart, ReadsStatusAndHeadersInOrder) {
  Start s = ParseStart(
      "{'type': 'http.response.start', 'status': 201,"
      " 'headers': [(b'content-type', b'text/plain'), [b'X-Dup', b'1'], (b'x-dup', b'2')]}");
  EXPECT_EQ(s.status, 201);
  ASSERT_EQ(s.headers.size(), 3u);
  EXPECT_EQ(s.headers[0], (std::pair<std::string, std::string>("content-type", "text/plain")));
  EXPECT_EQ(s.headers[1], (std::pair<std::string, std::string>("X-Dup", "1")));  // case kept for JS
  EXPECT_EQ(s.headers[2], (std::pair<std::string, std::string>("x-dup", "2")));
}

TEST(ParseResponseStart, HeadersAreOptionalAndMayBeNone) {
  EXPECT_EQ(ParseStart("{'type': 'http.response.start', 'status': 204}").headers.size(), 0u);
  EXPECT_EQ(ParseStart("{'type': 'http.response.start', 'status': 204, 'headers': None}").headers.size(), 0u);
  EXPECT_EQ(ParseStart("{'type': 'http.response.start', 'status': 204, 'headers': []}").headers.size(), 0u);
}

TEST(ParseResponseStart, AcceptsAnyIterableOfPairsAndBytesLikeNamesAndValues) {
  Start s = ParseStart(
      "{'status': 200, 'headers': iter([(bytearray(b'a'), memoryview(b'1')), (b'b', bytearray(b'2'))])}");
  ASSERT_EQ(s.headers.size(), 2u);
  EXPECT_EQ(s.headers[0].first, "a");
  EXPECT_EQ(s.headers[0].second, "1");
  EXPECT_EQ(s.headers[1].second, "2");
}

TEST(ParseResponseStart, StatusBoundsAreInclusive) {
  EXPECT_EQ(ParseStart("{'status': 100}").status, 100);
  EXPECT_EQ(ParseStart("{'status': 999}").status, 999);
}

TEST(ParseResponseStart, IntSubclassStatusSuchAsHTTPStatusIsAccepted) {
  py::module_::import("http");
  EXPECT_EQ(ParseStart("{'status': __import__('http').HTTPStatus.NOT_FOUND}").status, 404);
}

TEST(ParseResponseStart, MissingStatusIsAKeyError) {
  EXPECT_TRUE(ThrowsExactly<py::key_error>([] { ParseStart("{'type': 'http.response.start'}"); },
                                           "ASGI 'http.response.start' message is missing 'status'"));
}

TEST(ParseResponseStart, BoolStatusIsATypeError) {
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("{'status': True}"); },
                                            "ASGI 'http.response.start' message 'status' must be an int, got bool"));
}

TEST(ParseResponseStart, NonIntStatusIsATypeError) {
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("{'status': '200'}"); },
                                            "ASGI 'http.response.start' message 'status' must be an int, got str"));
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("{'status': 200.0}"); },
                                            "ASGI 'http.response.start' message 'status' must be an int, got float"));
}

TEST(ParseResponseStart, StatusOutOfRangeIsAValueError) {
  EXPECT_TRUE(ThrowsExactly<py::value_error>(
      [] { ParseStart("{'status': 99}"); }, "ASGI 'http.response.start' message 'status' must be between 100 and 999, got 99"));
  EXPECT_TRUE(ThrowsExactly<py::value_error>(
      [] { ParseStart("{'status': 1000}"); },
      "ASGI 'http.response.start' message 'status' must be between 100 and 999, got 1000"));
  EXPECT_TRUE(ThrowsExactly<py::value_error>(
      [] { ParseStart("{'status': -200}"); },
      "ASGI 'http.response.start' message 'status' must be between 100 and 999, got -200"));
}

TEST(ParseResponseStart, HugeStatusRaisesPythonOverflowError) {
  EXPECT_TRUE(ThrowsPythonError([] { ParseStart("{'status': 10**30}"); }, PyExc_OverflowError));
}

TEST(ParseResponseStart, NonDictMessageIsATypeError) {
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("[('status', 200)]"); },
                                            "ASGI 'http.response.start' message must be a dict, got list"));
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("None"); },
                                            "ASGI 'http.response.start' message must be a dict, got NoneType"));
}

TEST(ParseResponseStart, ErrorsNameTheMessageTypeTheyWereGiven) {
  int status;
  Headers headers;
  EXPECT_TRUE(ThrowsExactly<py::key_error>(
      [&] { ParseResponseStart(Eval("{}"), &status, &headers, "websocket.http.response.start"); },
      "ASGI 'websocket.http.response.start' message is missing 'status'"));
}

// --- headers ------------------------------------------------------------------------------------

TEST(ParseHeaders, StrHeaderNameIsATypeError) {
  EXPECT_TRUE(ThrowsExactly<py::type_error>(
      [] { ParseStart("{'status': 200, 'headers': [('content-type', b'text/plain')]}"); },
      "ASGI 'http.response.start' message header name must be bytes, got str"));
}

TEST(ParseHeaders, StrHeaderValueIsATypeError) {
  EXPECT_TRUE(ThrowsExactly<py::type_error>(
      [] { ParseStart("{'status': 200, 'headers': [(b'content-type', 'text/plain')]}"); },
      "ASGI 'http.response.start' message header value must be bytes, got str"));
}

TEST(ParseHeaders, CrOrLfInValueIsARuntimeError) {
  for (const char* message : {"{'status': 200, 'headers': [(b'x', b'a\\r\\nSet-Cookie: evil=1')]}",
                              "{'status': 200, 'headers': [(b'x', b'a\\nb')]}",
                              "{'status': 200, 'headers': [(b'x', b'a\\rb')]}",
                              "{'status': 200, 'headers': [(b'x', b'a\\x00b')]}"}) {
    EXPECT_TRUE(ThrowsExactly<std::runtime_error>([&] { ParseStart(message); }, "Invalid HTTP header value."))
        << message;
  }
}

TEST(ParseHeaders, HtabInValueIsAccepted) {
  EXPECT_EQ(ParseStart("{'status': 200, 'headers': [(b'x', b'a\\tb')]}").headers[0].second, "a\tb");
}

TEST(ParseHeaders, InvalidNameIsARuntimeError) {
  for (const char* message : {"{'status': 200, 'headers': [(b'bad name', b'v')]}",
                              "{'status': 200, 'headers': [(b'x:y', b'v')]}",
                              "{'status': 200, 'headers': [(b'x\\r\\ny', b'v')]}",
                              "{'status': 200, 'headers': [(b'', b'v')]}"}) {
    EXPECT_TRUE(ThrowsExactly<std::runtime_error>([&] { ParseStart(message); }, "Invalid HTTP header name."))
        << message;
  }
}

TEST(ParseHeaders, HeadersThatAreNotAnIterableOfPairsAreTypeErrors) {
  const std::string prefix = "ASGI 'http.response.start' message 'headers' must be an iterable of [name, value] byte pairs, got ";
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("{'status': 200, 'headers': {b'a': b'b'}}"); },
                                            prefix + "dict"));
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("{'status': 200, 'headers': b'a: b'}"); },
                                            prefix + "bytes"));
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("{'status': 200, 'headers': 'a: b'}"); },
                                            prefix + "str"));
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("{'status': 200, 'headers': 42}"); }, prefix + "int"));
}

TEST(ParseHeaders, HeaderThatIsNotAPairIsATypeError) {
  const std::string prefix = "ASGI 'http.response.start' message header must be a [name, value] pair of bytes, got ";
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("{'status': 200, 'headers': [(b'a',)]}"); },
                                            prefix + "tuple"));
  EXPECT_TRUE(ThrowsExactly<py::type_error>(
      [] { ParseStart("{'status': 200, 'headers': [[b'a', b'b', b'c']]}"); }, prefix + "list"));
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseStart("{'status': 200, 'headers': [b'ab']}"); },
                                            prefix + "bytes"));
}

TEST(ParseHeaders, AppendsToWhatIsAlreadyThere) {
  Headers headers = {{"existing", "1"}};
  ParseHeaders(Eval("[(b'new', b'2')]"), "http.response.start", &headers);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[1].first, "new");
}

// --- http.response.body -------------------------------------------------------------------------

TEST(ParseResponseBody, ReadsBodyAndMoreBody) {
  EXPECT_EQ(ParseBody("{'type': 'http.response.body', 'body': b'hello', 'more_body': True}"),
            (std::pair<std::string, bool>("hello", true)));
  EXPECT_EQ(ParseBody("{'type': 'http.response.body', 'body': b'bye', 'more_body': False}"),
            (std::pair<std::string, bool>("bye", false)));
}

TEST(ParseResponseBody, BodyAndMoreBodyDefaultToEmptyAndFalse) {
  EXPECT_EQ(ParseBody("{'type': 'http.response.body'}"), (std::pair<std::string, bool>("", false)));
}

TEST(ParseResponseBody, MoreBodyFollowsPythonTruthiness) {
  EXPECT_TRUE(ParseBody("{'body': b'', 'more_body': 1}").second);
  EXPECT_FALSE(ParseBody("{'body': b'', 'more_body': 0}").second);
  EXPECT_FALSE(ParseBody("{'body': b'', 'more_body': None}").second);
}

TEST(ParseResponseBody, BytearrayAndMemoryviewBodiesAreAccepted) {
  EXPECT_EQ(ParseBody("{'body': bytearray(b'from bytearray')}").first, "from bytearray");
  EXPECT_EQ(ParseBody("{'body': memoryview(b'from memoryview')}").first, "from memoryview");
  EXPECT_EQ(ParseBody("{'body': memoryview(b'0123456789')[2:5]}").first, "234");
}

TEST(ParseResponseBody, BinaryBodyWithNulBytesIsCopiedWhole) {
  EXPECT_EQ(ParseBody("{'body': bytes(range(256))}").first.size(), 256u);
  EXPECT_EQ(ParseBody("{'body': b'a\\x00b'}").first, std::string("a\0b", 3));
}

TEST(ParseResponseBody, StrBodyIsATypeError) {
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseBody("{'body': 'text'}"); },
                                            "ASGI 'http.response.body' message 'body' must be bytes, got str"));
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseBody("{'body': None}"); },
                                            "ASGI 'http.response.body' message 'body' must be bytes, got NoneType"));
}

TEST(ParseResponseBody, NonDictMessageIsATypeError) {
  EXPECT_TRUE(ThrowsExactly<py::type_error>([] { ParseBody("b'body'"); },
                                            "ASGI 'http.response.body' message must be a dict, got bytes"));
}

TEST(ParseResponseBody, ErrorsNameTheMessageTypeTheyWereGiven) {
  std::string body;
  EXPECT_TRUE(ThrowsExactly<py::type_error>(
      [&] { ParseResponseBody(Eval("{'body': 1}"), &body, "websocket.http.response.body"); },
      "ASGI 'websocket.http.response.body' message 'body' must be bytes, got int"));
}

// --- CopyBytesLike ------------------------------------------------------------------------------

TEST(CopyBytesLike, CopiesBytesBytearrayAndMemoryviewAndRefusesTheRest) {
  std::string out;
  EXPECT_TRUE(CopyBytesLike(Eval("b'x'"), &out));
  EXPECT_EQ(out, "x");
  EXPECT_TRUE(CopyBytesLike(Eval("bytearray(b'yy')"), &out));
  EXPECT_EQ(out, "yy");
  EXPECT_TRUE(CopyBytesLike(Eval("memoryview(b'zzz')"), &out));
  EXPECT_EQ(out, "zzz");
  out = "unchanged";
  EXPECT_FALSE(CopyBytesLike(Eval("'str'"), &out));
  EXPECT_FALSE(CopyBytesLike(Eval("[1, 2]"), &out));
  EXPECT_FALSE(CopyBytesLike(Eval("None"), &out));
  EXPECT_EQ(out, "unchanged");
}

}  // namespace
