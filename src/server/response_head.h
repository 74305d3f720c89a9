// HTTP/1.1 response serialisation: the status line and headers an app sent, with the framing
// the server decides (Content-Length, chunked, or close-delimited), keep-alive, and the Date and
// Server headers. No libuv, no Node, no Python.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include "../core/messages.h"

namespace node_asgi::server {

enum class Framing : uint8_t {
  kNoBody,      // HEAD, 1xx, 204, 304: whatever the app sends as body is not written
  kLength,      // Content-Length from the app
  kChunked,     // HTTP/1.1 without Content-Length
  kUntilClose,  // HTTP/1.0 without Content-Length: the body ends when the connection closes
};

struct RequestFacts {
  bool head_method = false;
  bool http10 = false;
  bool keep_alive = true;  // what the request allows (and the server still wants)
};

struct ResponsePlan {
  Framing framing = Framing::kChunked;
  uint64_t length = 0;     // kLength: bytes the body must have
  bool keep_alive = true;  // the connection stays open after this response
};

// "Wed, 02 Dec 2026 03:00:00 GMT", formatted once per second.
class DateCache {
 public:
  const std::string& Get(time_t now);

 private:
  time_t when_ = 0;
  std::string text_;
};

// Appends the response head to *out and returns the plan for its body. `server_header` empty:
// none; the app's own Date/Server headers win over the defaults. An app `Connection: close`
// ends keep-alive; an app `Transfer-Encoding` is kept and makes the body chunked.
// `defaults` (the server's --header list) go out unless the app sends the same name.
ResponsePlan AppendResponseHead(std::string* out, int status, const Headers& headers, const RequestFacts& request,
                                const std::string& date, const std::string& server_header,
                                const Headers* defaults = nullptr);

// Chunked framing of one body piece (nothing for an empty one), and the last chunk.
void AppendChunk(std::string* out, const char* data, size_t size);
inline constexpr char kLastChunk[] = "0\r\n\r\n";

// The reason phrase of a status ("" for unknown ones).
const char* ReasonPhrase(int status);

// A complete short text/plain response that closes the connection (400, 413, 431, 503...).
std::string PlainResponse(int status, const std::string& date, const std::string& server_header,
                          const std::string& body = std::string());

}  // namespace node_asgi::server
