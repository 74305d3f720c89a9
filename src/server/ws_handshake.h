// The WebSocket opening handshake (RFC 6455 §4.2): recognising an upgrade request, validating it as the
// `ws` npm package does, negotiating permessage-deflate, and computing Sec-WebSocket-Accept.
#pragma once

#include <string>
#include <vector>

#include "../core/messages.h"
#include "ws_deflate.h"

namespace node_asgi::server {

struct WsHandshakeRequest {
  std::string key;                        // Sec-WebSocket-Key as sent
  std::vector<std::string> subprotocols;  // Sec-WebSocket-Protocol tokens, in order ([] if none)
  std::string extensions;                 // Sec-WebSocket-Extensions values joined with ", " ("" if none)
  // Additions, set only when ValidateWebSocketRequest ran with deflate_enabled: whether permessage-deflate
  // was agreed, its parameters, and the value for the 101's Sec-WebSocket-Extensions header.
  bool deflate = false;
  DeflateParams deflate_params;
  std::string deflate_response;
};

// Whether the request is a WebSocket upgrade attempt at all: an Upgrade header whose value contains the
// token "websocket" (case-insensitive, comma-separated list).
bool IsWebSocketUpgrade(const Headers& headers);

// Validates a WebSocket upgrade request; returns "" when valid (and fills *out, which may be null), else
// the reason for a 400, checked in this order: "Invalid HTTP method" (not GET; ws answers 405 for this
// one), "Invalid Upgrade header" (not exactly "websocket", case-insensitive), "Invalid Connection header"
// (no "upgrade" token), "Missing or invalid Sec-WebSocket-Key header" (not ^[+/0-9A-Za-z]{22}==$),
// "Missing or invalid Sec-WebSocket-Version header" (not "13"), "Invalid Sec-WebSocket-Protocol header"
// (present, but not comma-separated RFC 7230 tokens without duplicates or empty elements), and, only when
// deflate_enabled and the header is present, "Invalid or unacceptable Sec-WebSocket-Extensions header"
// (NegotiateDeflate returned false). Header names match case-insensitively; a header sent more than once
// counts as its values joined with ", " (as Node does), so two keys or two versions are invalid.
std::string ValidateWebSocketRequest(const std::string& method, const Headers& headers, bool deflate_enabled,
                                     WsHandshakeRequest* out);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")): the 101's Sec-WebSocket-Accept.
std::string WebSocketAcceptKey(const std::string& key);

}  // namespace node_asgi::server
