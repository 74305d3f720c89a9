// llhttp glue: turns the bytes of an HTTP/1.x connection into request heads (plain structs, ready
// for the loop thread), body chunks and message ends, with the limits enforced on the way (431,
// 400). No libuv, no Node, no Python: the connection owns one and feeds it what it reads.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "../core/messages.h"

namespace node_asgi::server {

// What the connection learns when a request head is complete.
struct ParsedRequest {
  std::unique_ptr<HttpRequestHead> head;  // method, http_version, target, headers (scheme etc. left to the caller)
  bool keep_alive = false;      // llhttp_should_keep_alive: HTTP/1.1 unless "close", 1.0 only with "keep-alive"
  bool has_body = false;        // chunked, or a Content-Length above 0
  bool chunked = false;
  uint64_t content_length = 0;  // when !chunked
  bool expect_continue = false;  // "Expect: 100-continue" (only meaningful with a body)
  bool upgrade = false;          // llhttp saw Connection: upgrade + Upgrade (the caller decides what it is)
};

class RequestParserSink {
 public:
  virtual ~RequestParserSink() = default;
  // A head is complete. Return 0 to go on parsing its body, or a status (413, 503...) to stop the
  // connection with that error (Execute returns kError with it).
  virtual int OnRequestHead(ParsedRequest&& request) = 0;
  virtual void OnRequestBody(const char* data, size_t size) = 0;
  // The request's body (if any) is complete. The parser then pauses (kPaused) until Resume(), so
  // that pipelined requests are taken one at a time, in order.
  virtual void OnRequestComplete() = 0;
};

class RequestParser {
 public:
  enum class Result {
    kNeedMore,  // everything consumed; waiting for more bytes
    kPaused,    // a request completed; *consumed bytes were used, the rest waits for Resume()
    kUpgrade,   // an upgrade request's head was taken; the bytes after *consumed are not HTTP
    kError,     // the connection must answer error_status() (400, 431, ...) and close
  };
  struct Limits {
    size_t max_header_size = 16384;  // request line + header block, in bytes → 431
    size_t max_header_count = 100;   // header fields → 431
  };

  RequestParser(RequestParserSink* sink, Limits limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  Result Execute(const char* data, size_t size, size_t* consumed);
  // After kPaused: go on with the next request. After kUpgrade that the caller refused to treat
  // as an upgrade (h2c...): go on parsing HTTP.
  void Resume();
  void ResumeAfterUpgrade();
  // The peer closed its side: whether that ended the message cleanly (close-delimited bodies do
  // not exist in requests, so only "nothing was in progress" is clean).
  bool Idle() const { return !in_message_; }
  // True from the first byte of a request until its head is complete.
  bool InHead() const { return in_head_; }

  int error_status() const { return error_status_; }
  const std::string& error_reason() const { return error_reason_; }

 private:
  static const llhttp_settings_t* Settings();  // llhttp keeps a pointer: one static table
  static int OnMessageBegin(llhttp_t* p);
  static int OnUrl(llhttp_t* p, const char* at, size_t n);
  static int OnHeaderField(llhttp_t* p, const char* at, size_t n);
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t n);
  static int OnHeadersComplete(llhttp_t* p);
  static int OnBody(llhttp_t* p, const char* at, size_t n);
  static int OnMessageComplete(llhttp_t* p);
  int Fail(int status, const char* reason);
  int Count(size_t n);
  // What llhttp 8.1 lets through even in strict mode: a bare LF ending the request line or the
  // head, and obs-fold (a header line starting with SP/HT). Scans only head bytes; false → 400.
  bool ScanHead(const char* data, size_t size);

  llhttp_t parser_;
  RequestParserSink* sink_;
  Limits limits_;
  std::unique_ptr<HttpRequestHead> head_;
  bool in_head_ = false;
  bool in_message_ = false;
  bool last_was_value_ = false;
  size_t head_bytes_ = 0;
  // ScanHead's state, across reads: scanning until the head's empty line.
  bool scanning_ = true;
  bool head_started_ = false;
  bool line_start_ = false;  // the next byte starts a header line
  bool empty_line_ = false;  // the current line started with CR
  char prev_ = 0;
  int error_status_ = 0;
  std::string error_reason_;
};

}  // namespace node_asgi::server
