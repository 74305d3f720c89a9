// llhttp glue (see request_parser.h).
#include "request_parser.h"

#include "header_text.h"
#include "ws_handshake.h"

namespace node_asgi::server {

namespace {

RequestParser* Self(llhttp_t* p) { return static_cast<RequestParser*>(p->data); }


}  // namespace

RequestParser::RequestParser(RequestParserSink* sink, Limits limits) : sink_(sink), limits_(limits) {
  llhttp_init(&parser_, HTTP_REQUEST, Settings());
  parser_.data = this;
}

int RequestParser::Fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  return HPE_USER;
}

// Head bytes so far, against maxHeaderSize (request line and every header line, as sent).
int RequestParser::Count(size_t n) {
  head_bytes_ += n;
  if (head_bytes_ > limits_.max_header_size) return Fail(431, "Request Header Fields Too Large");
  return 0;
}

int RequestParser::OnMessageBegin(llhttp_t* p) {
  RequestParser* self = Self(p);
  self->head_ = std::make_unique<HttpRequestHead>();
  self->in_head_ = true;
  self->in_message_ = true;
  self->last_was_value_ = false;
  self->head_bytes_ = 16;  // method, spaces, version and CRLFs of the request line and head end
  return 0;
}

int RequestParser::OnUrl(llhttp_t* p, const char* at, size_t n) {
  RequestParser* self = Self(p);
  self->head_->target.append(at, n);
  return self->Count(n);
}

int RequestParser::OnHeaderField(llhttp_t* p, const char* at, size_t n) {
  RequestParser* self = Self(p);
  if (!self->in_head_) return 0;  // a chunked body's trailer fields: not passed on
  Headers& headers = self->head_->headers;
  if (headers.empty() || self->last_was_value_) {
    if (headers.size() >= self->limits_.max_header_count) return self->Fail(431, "Too many header fields");
    headers.emplace_back();
    self->last_was_value_ = false;
    if (int e = self->Count(4)) return e;  // ": " and CRLF
  }
  headers.back().first.append(at, n);
  return self->Count(n);
}

int RequestParser::OnHeaderValue(llhttp_t* p, const char* at, size_t n) {
  RequestParser* self = Self(p);
  if (!self->in_head_) return 0;  // trailer
  self->last_was_value_ = true;
  self->head_->headers.back().second.append(at, n);
  return self->Count(n);
}

int RequestParser::OnHeadersComplete(llhttp_t* p) {
  RequestParser* self = Self(p);
  self->in_head_ = false;
  ParsedRequest request;
  HttpRequestHead& head = *self->head_;
  const char* method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  head.method = method;
  if (int e = self->Count(head.method.size())) return e;
  head.http_version = p->http_major == 1 && p->http_minor == 1 ? "1.1" : p->http_major == 1 && p->http_minor == 0 ? "1.0" : std::to_string(p->http_major) + "." + std::to_string(p->http_minor);
  if (p->http_major != 1) return self->Fail(505, "HTTP Version Not Supported");
  request.keep_alive = llhttp_should_keep_alive(p) != 0;
  request.chunked = (p->flags & F_CHUNKED) != 0;
  request.content_length = (p->flags & F_CONTENT_LENGTH) ? p->content_length : 0;
  request.has_body = request.chunked || request.content_length > 0;
  // Only a WebSocket upgrade leaves HTTP; any other (h2c, CONNECT...) is served as a plain
  // request and the connection stays HTTP (uvicorn), so llhttp must not pause for it.
  request.upgrade = p->upgrade != 0 && IsWebSocketUpgrade(head.headers);
  if (!request.upgrade) p->upgrade = 0;
  int hosts = 0;
  for (auto& [name, value] : head.headers) {
    if (name.empty()) return self->Fail(400, "Empty header name");
    // llhttp drops the whitespace before a value, not after it (RFC 9112 §5: neither is part of it)
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (EqualsNoCase(name, "host")) ++hosts;
    if (EqualsNoCase(name, "expect") && EqualsNoCase(value, "100-continue")) request.expect_continue = true;
  }
  // RFC 9112 §3.2: an HTTP/1.1 request without Host, or any with several, gets 400.
  if (hosts > 1 || (hosts == 0 && p->http_minor == 1)) return self->Fail(400, "Missing or repeated Host header");
  request.head = std::move(self->head_);
  int status = self->sink_->OnRequestHead(std::move(request));
  if (status != 0) return self->Fail(status, "refused");
  return 0;
}

int RequestParser::OnBody(llhttp_t* p, const char* at, size_t n) {
  Self(p)->sink_->OnRequestBody(at, n);
  return 0;
}

int RequestParser::OnMessageComplete(llhttp_t* p) {
  RequestParser* self = Self(p);
  self->in_message_ = false;
  self->scanning_ = true;  // the next request's head
  self->head_started_ = self->line_start_ = self->empty_line_ = false;
  self->prev_ = 0;
  self->sink_->OnRequestComplete();
  // One request at a time; an upgrade pauses by itself (HPE_PAUSED_UPGRADE).
  return p->upgrade ? 0 : HPE_PAUSED;
}

const llhttp_settings_t* RequestParser::Settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &RequestParser::OnMessageBegin;
    s.on_url = &RequestParser::OnUrl;
    s.on_header_field = &RequestParser::OnHeaderField;
    s.on_header_value = &RequestParser::OnHeaderValue;
    s.on_headers_complete = &RequestParser::OnHeadersComplete;
    s.on_body = &RequestParser::OnBody;
    s.on_message_complete = &RequestParser::OnMessageComplete;
    return s;
  }();
  return &settings;
}

bool RequestParser::ScanHead(const char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    char c = data[i];
    if (!head_started_) {
      if (c == '\r' || c == '\n') {  // empty lines before a request: llhttp's to judge
        prev_ = c;
        continue;
      }
      head_started_ = true;
      prev_ = 0;
    }
    if (line_start_) {
      if (c == ' ' || c == '\t') return false;  // obs-fold (or whitespace after the request line)
      line_start_ = false;
      empty_line_ = c == '\r';
    }
    if (c == '\n') {
      if (prev_ != '\r') return false;  // bare LF
      if (empty_line_) {
        scanning_ = false;  // the head ended; the body is llhttp's
        return true;
      }
      line_start_ = true;
    }
    prev_ = c;
  }
  return true;
}

RequestParser::Result RequestParser::Execute(const char* data, size_t size, size_t* consumed) {
  if (scanning_ && !ScanHead(data, size)) {
    *consumed = size;
    error_status_ = 400;
    error_reason_ = "Invalid line ending or obs-fold in the request head";
    return Result::kError;
  }
  llhttp_errno_t e = llhttp_execute(&parser_, data, size);
  switch (e) {
    case HPE_OK:
      *consumed = size;
      return Result::kNeedMore;
    case HPE_PAUSED:
    case HPE_PAUSED_UPGRADE:
      *consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
      return e == HPE_PAUSED ? Result::kPaused : Result::kUpgrade;
    default:
      *consumed = size;
      if (error_status_ == 0) {
        error_status_ = 400;
        error_reason_ = llhttp_get_error_reason(&parser_) ? llhttp_get_error_reason(&parser_) : llhttp_errno_name(e);
      }
      return Result::kError;
  }
}

void RequestParser::Resume() { llhttp_resume(&parser_); }

void RequestParser::ResumeAfterUpgrade() { llhttp_resume_after_upgrade(&parser_); }

}  // namespace node_asgi::server
