// The WebSocket opening handshake: SHA-1/base64, upgrade detection, ws-compatible request validation.
#include "ws_handshake.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "sha1.h"

namespace {

using node_asgi::Headers;
using node_asgi::server::Base64Encode;
using node_asgi::server::IsWebSocketUpgrade;
using node_asgi::server::Sha1;
using node_asgi::server::ValidateWebSocketRequest;
using node_asgi::server::WebSocketAcceptKey;
using node_asgi::server::WsHandshakeRequest;

std::string Sha1Hex(const std::string& s) {
  uint8_t digest[20];
  Sha1(s.data(), s.size(), digest);
  std::string hex;
  char buf[3];
  for (uint8_t b : digest) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  return hex;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>((i * 7 + 3) & 0xFF);
  return s;
}

TEST(Sha1, MatchesFips180TestVectors) {
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(Sha1Hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, PaddingBoundariesMatchPythonHashlib) {
  // hashlib.sha1(bytes((i*7+3)&0xff for i in range(n))).hexdigest()
  const std::vector<std::pair<size_t, const char*>> cases = {
      {55, "ddf57317ef34bfee3b6df83d359098930eb278bc"},  {56, "a0d492bb0fc889d0eca3bc137066ab6f4f74f369"},
      {63, "c55856749bef509bdfe6bfebfc7bf4e793e82132"},  {64, "bede92be29c3874e1b54ddc77988d606fc857a8e"},
      {65, "b05a80522b053d6dc7e0a517d0e70212c7dad11f"},  {119, "504e27376a6e0f0dba8295b85cb25dc4dfa17d23"},
      {120, "82134b02fb3f702491be9bed581eeab59334acb2"}, {1000, "4231a8a50a10fa9758db8ec71fdef855b751048a"},
  };
  for (const auto& [n, hex] : cases) EXPECT_EQ(Sha1Hex(Pattern(n)), hex) << "length " << n;
}

TEST(Sha1, Base64MatchesRfc4648TestVectors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}, {"\xff\xfe\xfd", "//79"},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(Base64Encode(in.data(), in.size()), out) << in;
}

TEST(WsHandshake, AcceptKeyMatchesRfc6455Example) {
  EXPECT_EQ(WebSocketAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455 §1.3
  EXPECT_EQ(WebSocketAcceptKey("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");  // RFC 6455 §1.2
}

TEST(WsHandshake, UpgradeDetectedByTheWebsocketTokenInAnyCase) {
  EXPECT_TRUE(IsWebSocketUpgrade({{"Upgrade", "websocket"}}));
  EXPECT_TRUE(IsWebSocketUpgrade({{"UPGRADE", "WebSocket"}}));
  EXPECT_TRUE(IsWebSocketUpgrade({{"Host", "x"}, {"upgrade", "h2c, websocket"}}));
  EXPECT_TRUE(IsWebSocketUpgrade({{"upgrade", "h2c"}, {"upgrade", " websocket "}}));
  EXPECT_FALSE(IsWebSocketUpgrade({}));
  EXPECT_FALSE(IsWebSocketUpgrade({{"Upgrade", "h2c"}}));
  EXPECT_FALSE(IsWebSocketUpgrade({{"Upgrade", "websockets"}}));
  EXPECT_FALSE(IsWebSocketUpgrade({{"Connection", "websocket"}}));
}

Headers ValidHeaders() {
  return {{"Host", "example.com"},
          {"Upgrade", "websocket"},
          {"Connection", "Upgrade"},
          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
          {"Sec-WebSocket-Version", "13"}};
}

bool SameName(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// The valid request with header `name` (in any case) removed, then (name, value) appended when value is
// non-null.
Headers With(const std::string& name, const char* value) {
  Headers h;
  for (auto& kv : ValidHeaders()) {
    if (!SameName(kv.first, name)) h.push_back(kv);
  }
  if (value != nullptr) h.emplace_back(name, value);
  return h;
}

std::string Validate(const Headers& h, bool deflate = false, WsHandshakeRequest* out = nullptr) {
  return ValidateWebSocketRequest("GET", h, deflate, out);
}

TEST(WsHandshake, ValidRequestFillsKeyProtocolsAndExtensions) {
  Headers h = ValidHeaders();
  h.emplace_back("sec-websocket-protocol", "chat, superchat");
  h.emplace_back("Sec-WebSocket-Protocol", "v2.json");
  h.emplace_back("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
  h.emplace_back("Sec-WebSocket-Extensions", "x-webkit-deflate-frame");
  WsHandshakeRequest req;
  EXPECT_EQ(Validate(h, false, &req), "");
  EXPECT_EQ(req.key, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(req.subprotocols, (std::vector<std::string>{"chat", "superchat", "v2.json"}));
  EXPECT_EQ(req.extensions, "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame");
  EXPECT_FALSE(req.deflate);  // not enabled

  WsHandshakeRequest negotiated;
  EXPECT_EQ(Validate(h, true, &negotiated), "");
  EXPECT_TRUE(negotiated.deflate);
  EXPECT_EQ(negotiated.deflate_response, "permessage-deflate; client_max_window_bits=15");
}

TEST(WsHandshake, NoProtocolOrExtensionHeadersGiveEmptyValues) {
  WsHandshakeRequest req;
  req.subprotocols = {"stale"};
  EXPECT_EQ(Validate(ValidHeaders(), true, &req), "");
  EXPECT_TRUE(req.subprotocols.empty());
  EXPECT_EQ(req.extensions, "");
  EXPECT_FALSE(req.deflate);
}

TEST(WsHandshake, MethodMustBeGet) {
  EXPECT_EQ(ValidateWebSocketRequest("POST", ValidHeaders(), false, nullptr), "Invalid HTTP method");
  EXPECT_EQ(ValidateWebSocketRequest("get", ValidHeaders(), false, nullptr), "Invalid HTTP method");
  // The method is judged first.
  EXPECT_EQ(ValidateWebSocketRequest("PUT", With("Sec-WebSocket-Key", nullptr), false, nullptr),
            "Invalid HTTP method");
}

TEST(WsHandshake, UpgradeMustBeWebsocket) {
  EXPECT_EQ(Validate(With("Upgrade", nullptr)), "Invalid Upgrade header");
  EXPECT_EQ(Validate(With("Upgrade", "h2c")), "Invalid Upgrade header");
  EXPECT_EQ(Validate(With("Upgrade", "websocket, h2c")), "Invalid Upgrade header");  // ws: exactly "websocket"
  EXPECT_EQ(Validate(With("Upgrade", "WebSocket")), "");
}

TEST(WsHandshake, ConnectionMustHaveTheUpgradeToken) {
  EXPECT_EQ(Validate(With("Connection", nullptr)), "Invalid Connection header");
  EXPECT_EQ(Validate(With("Connection", "keep-alive")), "Invalid Connection header");
  EXPECT_EQ(Validate(With("Connection", "upgraded")), "Invalid Connection header");
  EXPECT_EQ(Validate(With("Connection", "keep-alive, Upgrade")), "");
  EXPECT_EQ(Validate(With("connection", "UPGRADE")), "");
}

TEST(WsHandshake, KeyMustBe16Base64Bytes) {
  const char* kError = "Missing or invalid Sec-WebSocket-Key header";
  EXPECT_EQ(Validate(With("Sec-WebSocket-Key", nullptr)), kError);
  EXPECT_EQ(Validate(With("Sec-WebSocket-Key", "")), kError);
  EXPECT_EQ(Validate(With("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=")), kError);     // 23 chars
  EXPECT_EQ(Validate(With("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQA=")), kError);    // one '='
  EXPECT_EQ(Validate(With("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZ-==")), kError);    // '-' not base64
  EXPECT_EQ(Validate(With("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ===")), kError);   // 25 chars
  EXPECT_EQ(Validate(With("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAAA")), kError);    // no padding
  EXPECT_EQ(Validate(With("Sec-WebSocket-Key", "+/+/+/+/+/+/+/+/+/+/+/==")), "");
  Headers twice = ValidHeaders();
  twice.emplace_back("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(Validate(twice), kError);  // joined as "k, k"
}

TEST(WsHandshake, VersionMustBe13) {
  const char* kError = "Missing or invalid Sec-WebSocket-Version header";
  EXPECT_EQ(Validate(With("Sec-WebSocket-Version", nullptr)), kError);
  EXPECT_EQ(Validate(With("Sec-WebSocket-Version", "8")), kError);
  EXPECT_EQ(Validate(With("Sec-WebSocket-Version", "14")), kError);
  EXPECT_EQ(Validate(With("Sec-WebSocket-Version", "013")), kError);
  EXPECT_EQ(Validate(With("Sec-WebSocket-Version", "13, 8")), kError);
  EXPECT_EQ(Validate(With("SEC-WEBSOCKET-VERSION", "13")), "");
}

TEST(WsHandshake, ProtocolMustBeDistinctCommaSeparatedTokens) {
  const char* kError = "Invalid Sec-WebSocket-Protocol header";
  auto protocols = [](const char* value, std::string* error) {
    WsHandshakeRequest req;
    *error = Validate(With("Sec-WebSocket-Protocol", value), false, &req);
    return req.subprotocols;
  };
  std::string error;
  EXPECT_EQ(protocols("chat", &error), std::vector<std::string>{"chat"});
  EXPECT_EQ(error, "");
  EXPECT_EQ(protocols("a,b", &error), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(protocols("a , \tb,c", &error), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(error, "");
  for (const char* bad : {"", "a,", ",a", "a,,b", "a, ,b", "a b", "a, a", "ch@t", "a;b", "\"a\"", "a/b"}) {
    protocols(bad, &error);
    EXPECT_EQ(error, kError) << "'" << bad << "'";
  }
  Headers twice = ValidHeaders();
  twice.emplace_back("Sec-WebSocket-Protocol", "a");
  twice.emplace_back("Sec-WebSocket-Protocol", "a");
  EXPECT_EQ(Validate(twice), kError);
}

TEST(WsHandshake, ExtensionsJudgedOnlyWhenDeflateIsEnabled) {
  const char* kError = "Invalid or unacceptable Sec-WebSocket-Extensions header";
  EXPECT_EQ(Validate(With("Sec-WebSocket-Extensions", ";;garbage"), false), "");
  EXPECT_EQ(Validate(With("Sec-WebSocket-Extensions", ";;garbage"), true), kError);
  EXPECT_EQ(Validate(With("Sec-WebSocket-Extensions", ""), true), kError);  // present but empty, as ws
  EXPECT_EQ(Validate(With("Sec-WebSocket-Extensions", "permessage-deflate; foo"), true), kError);
  EXPECT_EQ(Validate(With("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=7"), true),
            kError);
  WsHandshakeRequest req;
  EXPECT_EQ(Validate(With("Sec-WebSocket-Extensions", "x-webkit-deflate-frame"), true, &req), "");
  EXPECT_FALSE(req.deflate);
  EXPECT_EQ(Validate(With("Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover"), true, &req),
            "");
  EXPECT_TRUE(req.deflate);
  EXPECT_TRUE(req.deflate_params.server_no_context_takeover);
  EXPECT_EQ(req.deflate_response, "permessage-deflate; server_no_context_takeover");
}

TEST(WsHandshake, ChecksRunInWsOrder) {
  Headers h = {{"Upgrade", "nope"}, {"Sec-WebSocket-Version", "7"}};
  EXPECT_EQ(Validate(h), "Invalid Upgrade header");
  h = {{"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "7"}};
  EXPECT_EQ(Validate(h), "Invalid Connection header");
  h = {{"Upgrade", "websocket"}, {"Connection", "upgrade"}, {"Sec-WebSocket-Version", "7"}};
  EXPECT_EQ(Validate(h), "Missing or invalid Sec-WebSocket-Key header");
  h = With("Sec-WebSocket-Version", "7");
  h.emplace_back("Sec-WebSocket-Protocol", ",");
  EXPECT_EQ(Validate(h), "Missing or invalid Sec-WebSocket-Version header");
  h = With("Sec-WebSocket-Protocol", ",");
  h.emplace_back("Sec-WebSocket-Extensions", ",");
  EXPECT_EQ(Validate(h, true), "Invalid Sec-WebSocket-Protocol header");
}

}  // namespace
