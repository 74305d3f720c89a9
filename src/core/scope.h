// Builds ASGI HTTP scope dicts from plain request heads. Loop thread only; GIL held.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "messages.h"

namespace node_asgi {

namespace py = pybind11;

// Interned keys and constant values reused by every scope of one handler (never in a static:
// they belong to the interpreter and are released with the handler's channel).
struct ScopeConstants {
  ScopeConstants();
  py::str type, asgi, http_version, method, scheme, path, raw_path, query_string, root_path, headers,
      client, server, state, extensions, subprotocols;
  py::str http, websocket;
  py::dict asgi_version;  // {"version": "3.0", "spec_version": "2.4"}; copied per scope
  // Every key of an HTTP / a WebSocket scope, in order, values None: a scope starts as a copy
  // (keys table copied at once, no resizing while it fills) and has its values replaced.
  py::dict http_template, websocket_template;
  // Values most requests share, made once: "GET", "POST", ...; "1.1", "1.0"; "http", "https", ...
  std::vector<std::pair<std::string, py::str>> common_values;
  // `value` as a str, shared when it is one of common_values.
  py::str Text(const std::string& value) const;
};

struct ScopeOptions {
  // Spec (and uvicorn >= 0.26): scope["path"] includes root_path. Off for Starlette < 0.33 (the
  // Debian FastAPI 0.92 stack), which routes on scope["path"] as is.
  bool path_includes_root_path = true;
};

py::dict BuildHttpScope(const HttpRequestHead& head, const ScopeConstants& k, const ScopeOptions& options);

// A "websocket" scope: no method; scheme ws/wss; `subprotocols` from Sec-WebSocket-Protocol;
// extensions {"websocket.http.response": {}} (the denial-response extension).
py::dict BuildWebSocketScope(const HttpRequestHead& head, const ScopeConstants& k, const ScopeOptions& options);

// The subprotocols a client offered: Sec-WebSocket-Protocol values split on commas, trimmed.
py::list OfferedSubprotocols(const Headers& headers);

// scope["headers"]: a list of [name, value] bytes pairs, names lower-cased.
py::list HeadersToPython(const Headers& headers);

// Percent- then UTF-8-decodes a raw path (invalid UTF-8 becomes U+FFFD, like urllib's unquote).
py::str DecodePath(std::string_view raw_path);

}  // namespace node_asgi
