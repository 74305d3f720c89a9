// Conversions between HTTP bytes, plain C++ values and ASGI message objects, with the validation an
// ASGI server owes its apps. Functions taking py:: values run on the loop thread with the GIL held.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

#include "messages.h"

namespace node_asgi {

namespace py = pybind11;

// Splits a request target into its path and query (without the '?'). An absolute-form target
// ("http://host/p?q") yields its path; "*" yields "*".
void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query);

// Percent-decodes into raw bytes; malformed escapes are kept as they are (like urllib's unquote).
std::string PercentDecode(std::string_view in);

// True when `name` is a non-empty RFC 9110 token.
bool IsHeaderName(std::string_view name);
// True when `value` has no CR, LF or NUL (other control bytes but HTAB are refused too).
bool IsHeaderValue(std::string_view value);

// ASCII lower-casing of a header name, as a new string.
std::string LowerAscii(std::string_view s);

// The `headers` of an ASGI message: an iterable of 2-item (bytes, bytes) sequences. Raises
// TypeError naming `message_type` on a wrong shape and RuntimeError on an invalid name or value.
void ParseHeaders(py::handle headers, const char* message_type, Headers* out);

// Validates an `http.response.start` (or `websocket.http.response.start`) message into `status`
// and `headers`; `message_type` names it in errors.
void ParseResponseStart(py::handle message, int* status, Headers* headers,
                        const char* message_type = "http.response.start");

// Validates an `http.response.body` (or `websocket.http.response.body`) message; copies its body
// into `body` and returns more_body.
bool ParseResponseBody(py::handle message, std::string* body, const char* message_type = "http.response.body");

// Validates a `websocket.accept` message: optional `subprotocol` (str or None) and `headers`.
// Returns whether a subprotocol was given.
bool ParseWebSocketAccept(py::handle message, std::string* subprotocol, Headers* headers);

// Validates a `websocket.send` message: exactly one of `bytes` (bytes-like) and `text` (str) is
// set. Copies the payload (text as UTF-8) into `payload`; returns true for text.
bool ParseWebSocketSend(py::handle message, std::string* payload);

// Validates a `websocket.close` message: `code` (int, default 1000) and `reason` (str, default '',
// at most 123 UTF-8 bytes).
void ParseWebSocketClose(py::handle message, int* code, std::string* reason);

// Copies any bytes-like object (bytes, bytearray, memoryview) into `out`; false when it is not one.
bool CopyBytesLike(py::handle value, std::string* out);

}  // namespace node_asgi
