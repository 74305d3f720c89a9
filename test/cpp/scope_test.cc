// HTTP scope building: every key of the dict an app receives, from a plain request head.
#include "scope.h"

#include <gtest/gtest.h>

#include <string>

#include "python_test_env.h"

namespace {

namespace py = pybind11;
using node_asgi::BuildHttpScope;
using node_asgi::DecodePath;
using node_asgi::Headers;
using node_asgi::HeadersToPython;
using node_asgi::HttpRequestHead;
using node_asgi::ScopeConstants;
using node_asgi::ScopeOptions;
using node_asgi_test::Eval;

HttpRequestHead TypicalHead() {
  HttpRequestHead head;
  head.method = "POST";
  head.scheme = "https";
  head.http_version = "1.1";
  head.target = "/items/caf%C3%A9%2Fx?q=J%C3%BCrgen&x=1";
  head.headers = {{"Host", "example.com"}, {"Content-Type", "application/json"}, {"X-Dup", "1"}, {"x-dup", "2"}};
  head.client_host = "127.0.0.1";
  head.client_port = 54321;
  head.server_host = "10.0.0.2";
  head.server_port = 8443;
  return head;
}

std::string Str(py::handle o) { return o.cast<std::string>(); }
std::string Bytes(py::handle o) {
  EXPECT_TRUE(PyBytes_Check(o.ptr())) << "not bytes: " << Str(py::repr(o));
  return PyBytes_Check(o.ptr()) ? o.cast<std::string>() : std::string();
}

class HttpScope : public ::testing::Test {
 protected:
  py::dict Build(const HttpRequestHead& head, bool path_includes_root_path = true) {
    ScopeOptions options;
    options.path_includes_root_path = path_includes_root_path;
    return BuildHttpScope(head, constants_, options);
  }
  ScopeConstants constants_;  // created and released under the test binary's interpreter
};

TEST_F(HttpScope, HasExactlyTheAsgiHttpKeys) {
  py::dict scope = Build(TypicalHead());
  py::object keys = Eval("sorted")(scope);
  EXPECT_EQ(Str(py::repr(keys)),
            "['asgi', 'client', 'extensions', 'headers', 'http_version', 'method', 'path', 'query_string', "
            "'raw_path', 'root_path', 'scheme', 'server', 'type']");
}

TEST_F(HttpScope, TypeIsHttpAndAsgiVersionIs30WithSpecVersion) {
  py::dict scope = Build(TypicalHead());
  EXPECT_EQ(Str(scope["type"]), "http");
  py::dict asgi = scope["asgi"];
  EXPECT_EQ(asgi.size(), 2u);
  EXPECT_EQ(Str(asgi["version"]), "3.0");
  EXPECT_EQ(Str(asgi["spec_version"]), "2.4");
}

TEST_F(HttpScope, EachScopeGetsItsOwnAsgiAndExtensionsDicts) {
  py::dict a = Build(TypicalHead());
  py::dict b = Build(TypicalHead());
  EXPECT_FALSE(a["asgi"].is(b["asgi"]));
  EXPECT_FALSE(a["extensions"].is(b["extensions"]));
  a["asgi"]["version"] = "mutated";  // an app mutating its scope must not affect the next one
  EXPECT_EQ(Str(Build(TypicalHead())["asgi"]["version"]), "3.0");
  EXPECT_EQ(py::dict(a["extensions"]).size(), 0u);
}

TEST_F(HttpScope, MethodSchemeAndHttpVersionAreStr) {
  py::dict scope = Build(TypicalHead());
  EXPECT_TRUE(PyUnicode_Check(scope["method"].ptr()));
  EXPECT_EQ(Str(scope["method"]), "POST");
  EXPECT_EQ(Str(scope["scheme"]), "https");
  EXPECT_EQ(Str(scope["http_version"]), "1.1");
  HttpRequestHead head = TypicalHead();
  head.http_version = "2";
  head.scheme = "http";
  head.method = "PATCH";
  scope = Build(head);
  EXPECT_EQ(Str(scope["http_version"]), "2");
  EXPECT_EQ(Str(scope["scheme"]), "http");
  EXPECT_EQ(Str(scope["method"]), "PATCH");
}

TEST_F(HttpScope, PathIsPercentAndUtf8Decoded) {
  py::dict scope = Build(TypicalHead());
  EXPECT_TRUE(PyUnicode_Check(scope["path"].ptr()));
  EXPECT_EQ(Str(scope["path"]), "/items/caf\xC3\xA9/x");
}

TEST_F(HttpScope, PathWithInvalidUtf8DecodesWithReplacementCharacters) {
  HttpRequestHead head = TypicalHead();
  head.target = "/a%FFb";
  EXPECT_EQ(Str(Build(head)["path"]), "/a\xEF\xBF\xBD" "b");  // U+FFFD, like urllib's unquote
}

TEST_F(HttpScope, RawPathIsTheReceivedPathBytesWithoutQuery) {
  py::dict scope = Build(TypicalHead());
  EXPECT_EQ(Bytes(scope["raw_path"]), "/items/caf%C3%A9%2Fx");
}

TEST_F(HttpScope, QueryStringIsTheRawBytesAfterTheQuestionMark) {
  py::dict scope = Build(TypicalHead());
  EXPECT_EQ(Bytes(scope["query_string"]), "q=J%C3%BCrgen&x=1");
  HttpRequestHead head = TypicalHead();
  head.target = "/plain";
  EXPECT_EQ(Bytes(Build(head)["query_string"]), "");
}

TEST_F(HttpScope, AbsoluteFormTargetGivesItsPath) {
  HttpRequestHead head = TypicalHead();
  head.target = "http://example.com/abs/p?z=9";
  py::dict scope = Build(head);
  EXPECT_EQ(Str(scope["path"]), "/abs/p");
  EXPECT_EQ(Bytes(scope["raw_path"]), "/abs/p");
  EXPECT_EQ(Bytes(scope["query_string"]), "z=9");
}

TEST_F(HttpScope, RootPathIsEmptyStrByDefault) {
  py::dict scope = Build(TypicalHead());
  EXPECT_TRUE(PyUnicode_Check(scope["root_path"].ptr()));
  EXPECT_EQ(Str(scope["root_path"]), "");
}

TEST_F(HttpScope, PathIncludesRootPathWhenThatOptionIsOn) {
  HttpRequestHead head = TypicalHead();
  head.root_path = "/api/v\xC3\xA9";
  head.target = "/users?id=1";
  py::dict scope = Build(head, /*path_includes_root_path=*/true);
  EXPECT_EQ(Str(scope["root_path"]), "/api/v\xC3\xA9");
  EXPECT_EQ(Str(scope["path"]), "/api/v\xC3\xA9/users");
  EXPECT_EQ(Bytes(scope["query_string"]), "id=1");
}

// uvicorn >= 0.26 prefixes raw_path with root_path whenever it prefixes path
// (`root_path.encode("ascii") + raw_path`).
TEST_F(HttpScope, RawPathIncludesRootPathWhenPathDoes) {
  HttpRequestHead head = TypicalHead();
  head.root_path = "/api";
  head.target = "/users%2Fx?id=1";
  py::dict scope = Build(head, /*path_includes_root_path=*/true);
  EXPECT_EQ(Str(scope["path"]), "/api/users/x");
  EXPECT_EQ(Bytes(scope["raw_path"]), "/api/users%2Fx");
}

TEST_F(HttpScope, PathExcludesRootPathWhenThatOptionIsOff) {
  HttpRequestHead head = TypicalHead();
  head.root_path = "/api";
  head.target = "/users?id=1";
  py::dict scope = Build(head, /*path_includes_root_path=*/false);
  EXPECT_EQ(Str(scope["root_path"]), "/api");
  EXPECT_EQ(Str(scope["path"]), "/users");
  EXPECT_EQ(Bytes(scope["raw_path"]), "/users");
}

TEST_F(HttpScope, HeadersAreBytesPairsWithLowerCasedNamesInOrderWithDuplicates) {
  py::dict scope = Build(TypicalHead());
  py::list headers = scope["headers"];
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(Str(py::repr(headers)),
            "[(b'host', b'example.com'), (b'content-type', b'application/json'), (b'x-dup', b'1'), "
            "(b'x-dup', b'2')]");
}

TEST_F(HttpScope, HeaderValuesKeepTheirCaseAndLatin1Bytes) {
  HttpRequestHead head = TypicalHead();
  head.headers = {{"X-Name", "J\xFCrgen MixedCase"}};
  py::list headers = Build(head)["headers"];
  EXPECT_EQ(Bytes(headers[0].cast<py::tuple>()[1]), "J\xFCrgen MixedCase");
}

TEST_F(HttpScope, NoHeadersGiveAnEmptyList) {
  HttpRequestHead head = TypicalHead();
  head.headers.clear();
  py::object headers = Build(head)["headers"];
  ASSERT_TRUE(PyList_Check(headers.ptr()));
  EXPECT_EQ(py::len(headers), 0u);
}

TEST_F(HttpScope, ClientAndServerAreHostPortTuples) {
  py::dict scope = Build(TypicalHead());
  ASSERT_TRUE(PyTuple_Check(scope["client"].ptr()));
  EXPECT_EQ(Str(py::repr(scope["client"])), "('127.0.0.1', 54321)");
  EXPECT_EQ(Str(py::repr(scope["server"])), "('10.0.0.2', 8443)");
}

TEST_F(HttpScope, ClientAndServerAreNoneWhenUnknown) {
  HttpRequestHead head = TypicalHead();
  head.client_host.clear();
  head.server_host.clear();
  py::dict scope = Build(head);
  EXPECT_TRUE(scope["client"].is_none());
  EXPECT_TRUE(scope["server"].is_none());
}

TEST_F(HttpScope, ExtensionsIsAnEmptyDict) {
  py::object extensions = Build(TypicalHead())["extensions"];
  ASSERT_TRUE(PyDict_Check(extensions.ptr()));
  EXPECT_EQ(py::len(extensions), 0u);
}

TEST(HeadersToPython, LowerCasesNamesOnlyAndKeepsOrder) {
  Headers headers = {{"B-Header", "Value"}, {"a-header", "v2"}, {"B-HEADER", "v3"}};
  py::list list = HeadersToPython(headers);
  EXPECT_EQ(Str(py::repr(list)), "[(b'b-header', b'Value'), (b'a-header', b'v2'), (b'b-header', b'v3')]");
}

TEST(DecodePath, DecodesPercentEscapesThenUtf8) {
  EXPECT_EQ(Str(DecodePath("/%E2%82%AC/a%20b")), "/\xE2\x82\xAC/a b");
  EXPECT_EQ(Str(DecodePath("/%zz")), "/%zz");
}

}  // namespace
