// The WebSocket opening handshake: upgrade detection, ws-compatible validation, Sec-WebSocket-Accept.
#include "ws_handshake.h"

#include <cstring>
#include <utility>

#include "header_text.h"
#include "sha1.h"

namespace node_asgi::server {

namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string Trim(const std::string& s) {
  size_t first = 0, last = s.size();
  while (first < last && IsOws(s[first])) first++;
  while (last > first && IsOws(s[last - 1])) last--;
  return s.substr(first, last - first);
}

// All values of the header `name` joined with ", " (each trimmed); *present tells whether it was sent.
std::string JoinedHeader(const Headers& headers, const char* name, bool* present) {
  std::string value;
  *present = false;
  for (const auto& [n, v] : headers) {
    if (!EqualsNoCase(n, name)) continue;
    if (*present) value += ", ";
    value += Trim(v);
    *present = true;
  }
  return value;
}

bool IsTokenChar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsValidKey(const std::string& key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; i++) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// A port of ws's lib/subprotocol.js parse(): tokens separated by commas with optional whitespace around
// them; no empty element, no duplicate.
bool ParseSubprotocols(const std::string& h, std::vector<std::string>* out) {
  long start = -1, end = -1;
  size_t i = 0;
  auto add = [&](long to) {
    std::string token = h.substr(static_cast<size_t>(start), static_cast<size_t>(to - start));
    for (const std::string& seen : *out) {
      if (seen == token) return false;
    }
    out->push_back(std::move(token));
    return true;
  };
  for (; i < h.size(); i++) {
    unsigned char c = static_cast<unsigned char>(h[i]);
    if (end == -1 && IsTokenChar(c)) {
      if (start == -1) start = static_cast<long>(i);
    } else if (i != 0 && (c == ' ' || c == '\t')) {
      if (end == -1 && start != -1) end = static_cast<long>(i);
    } else if (c == ',') {
      if (start == -1) return false;
      if (end == -1) end = static_cast<long>(i);
      if (!add(end)) return false;
      start = end = -1;
    } else {
      return false;
    }
  }
  if (start == -1 || end != -1) return false;
  return add(static_cast<long>(i));
}

}  // namespace

bool IsWebSocketUpgrade(const Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (EqualsNoCase(name, "upgrade") && HasToken(value, "websocket")) return true;
  }
  return false;
}

std::string ValidateWebSocketRequest(const std::string& method, const Headers& headers, bool deflate_enabled,
                                     WsHandshakeRequest* out) {
  if (method != "GET") return "Invalid HTTP method";
  bool present;
  if (!EqualsNoCase(JoinedHeader(headers, "upgrade", &present), "websocket")) return "Invalid Upgrade header";
  if (!HasToken(JoinedHeader(headers, "connection", &present), "upgrade")) return "Invalid Connection header";
  std::string key = JoinedHeader(headers, "sec-websocket-key", &present);
  if (!IsValidKey(key)) return "Missing or invalid Sec-WebSocket-Key header";
  if (JoinedHeader(headers, "sec-websocket-version", &present) != "13") {
    return "Missing or invalid Sec-WebSocket-Version header";
  }
  std::vector<std::string> subprotocols;
  std::string protocol = JoinedHeader(headers, "sec-websocket-protocol", &present);
  if (present && !ParseSubprotocols(protocol, &subprotocols)) return "Invalid Sec-WebSocket-Protocol header";
  bool extensions_present;
  std::string extensions = JoinedHeader(headers, "sec-websocket-extensions", &extensions_present);
  bool deflate = false;
  DeflateParams deflate_params;
  std::string deflate_response;
  if (deflate_enabled && extensions_present &&
      !NegotiateDeflate(extensions, &deflate, &deflate_params, &deflate_response)) {
    return "Invalid or unacceptable Sec-WebSocket-Extensions header";
  }
  if (out != nullptr) {
    out->key = std::move(key);
    out->subprotocols = std::move(subprotocols);
    out->extensions = std::move(extensions);
    out->deflate = deflate;
    out->deflate_params = deflate_params;
    out->deflate_response = std::move(deflate_response);
  }
  return std::string();
}

std::string WebSocketAcceptKey(const std::string& key) {
  static const char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input = key + kGuid;
  uint8_t digest[20];
  Sha1(input.data(), input.size(), digest);
  return Base64Encode(digest, sizeof digest);
}

}  // namespace node_asgi::server
