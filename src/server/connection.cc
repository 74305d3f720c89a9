// One connection of the native server (see connection.h). JS thread (Node's loop) only.
#include "connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include "header_text.h"
#include "http_server.h"
#include "ws_handshake.h"

namespace node_asgi::server {

namespace {

// Bytes of pipelined requests buffered while one is served before reading pauses.
constexpr size_t kMaxPendingInput = 64 * 1024;
// How long a closing connection waits for the peer's close (WebSocket close reply, lingering
// close after an error response) before it is dropped.
constexpr uint64_t kCloseWaitMs = 2000;

enum TimerKind : uint8_t { kTimerNone, kTimerHead, kTimerKeepAlive, kTimerPing, kTimerPong, kTimerCloseWait };

struct WriteReq {
  uv_write_t req;
  std::string data;
};

}  // namespace

Connection::Connection(HttpServer* server)
    : server_(server),
      parser_(this, RequestParser::Limits{server->options().max_header_size, server->options().max_header_count}) {
  socket_.tcp.data = this;
  timer_.data = this;
}

Connection::~Connection() = default;

bool Connection::Accept(uv_stream_t* listener) {
  InitHandles();
  return Begin(uv_accept(listener, as_stream()));
}

bool Connection::Adopt(int fd) {
  sockaddr_storage addr;
  socklen_t length = sizeof addr;
  is_tcp_ = !(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0 && addr.ss_family == AF_UNIX);
  InitHandles();
  int r = is_tcp_ ? uv_tcp_open(&socket_.tcp, fd) : uv_pipe_open(&socket_.pipe, fd);
  if (r != 0) close(fd);  // not the handle's yet
  return Begin(r);
}

void Connection::InitHandles() {
  if (is_tcp_) {
    uv_tcp_init(server_->loop(), &socket_.tcp);
  } else {
    uv_pipe_init(server_->loop(), &socket_.pipe, 0);
  }
  socket_.tcp.data = this;
  ++open_handles_;
  uv_timer_init(server_->loop(), &timer_);
  timer_.data = this;
  ++open_handles_;
}

bool Connection::Begin(int attached) {
  if (attached != 0) {  // nothing to serve: close both handles (the connection deletes itself)
    closed_ = true;
    uv_close(as_handle(), &Connection::OnClose);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &Connection::OnClose);
    return false;
  }
  if (is_tcp_) {
    uv_tcp_nodelay(&socket_.tcp, 1);
    sockaddr_storage addr;
    int length = sizeof addr;
    if (uv_tcp_getpeername(&socket_.tcp, reinterpret_cast<sockaddr*>(&addr), &length) == 0) AddressOf(addr, &client_host_, &client_port_);
    length = sizeof addr;
    if (uv_tcp_getsockname(&socket_.tcp, reinterpret_cast<sockaddr*>(&addr), &length) == 0) AddressOf(addr, &server_host_, &server_port_);
  }
  timer_kind_ = kTimerHead;
  StartTimer(server_->options().timeout_headers_ms);
  UpdateReading();
  return true;
}

// -- timers ----------------------------------------------------------------------------------

void Connection::StartTimer(uint64_t ms) {
  uv_timer_start(&timer_, &Connection::OnTimer, ms, 0);
}

void Connection::StopTimer() {
  uv_timer_stop(&timer_);
  timer_kind_ = kTimerNone;
}

// One timer per connection; timer_kind_ says what it is measuring.
void Connection::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<Connection*>(timer->data);
  uint8_t kind = self->timer_kind_;
  self->timer_kind_ = kTimerNone;
  const ServerOptions& o = self->server_->options();
  switch (kind) {
    case kTimerHead:
      if (self->parser_.InHead() && self->mode_ == Mode::kHttp) {
        self->RefuseHttp(408);
        self->Flush();
      } else {
        self->Destroy();
      }
      break;
    case kTimerKeepAlive:
    case kTimerCloseWait:
      self->Destroy();
      break;
    case kTimerPing:
      if (self->mode_ != Mode::kWebSocket || self->ws_close_sent_) break;
      AppendWsFrame(&self->out_, kPing, "", 0);
      self->awaiting_pong_ = true;
      self->timer_kind_ = kTimerPong;
      self->StartTimer(o.ws_ping_timeout_ms);
      self->Flush();
      break;
    case kTimerPong:
      if (!self->awaiting_pong_) break;
      self->WsSendClose(1011, "keepalive ping timeout");
      self->WsDisconnect(1011, "keepalive ping timeout");
      self->Flush();
      self->EndAfterWrites();
      break;
    default:
      break;
  }
}

// -- reading -----------------------------------------------------------------------------------

void Connection::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  *buf = static_cast<Connection*>(handle->data)->server_->ReadBuffer();
}

void Connection::UpdateReading() {
  if (closed_) return;
  bool want;
  if (mode_ == Mode::kClosing) {
    want = true;  // lingering close: read and discard until the peer closes
  } else {
    want = !ending_ && !body_paused_ && pending_input_.size() < kMaxPendingInput;
  }
  if (want == reading_) return;
  reading_ = want;
  auto* stream = as_stream();
  if (want) {
    if (uv_read_start(stream, &Connection::OnAlloc, &Connection::OnRead) != 0) reading_ = false;
  } else {
    uv_read_stop(stream);
  }
}

void Connection::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread == 0 || self->closed_) return;
  if (nread < 0) {  // EOF or error: the client is gone (uvicorn: http.disconnect)
    if (self->mode_ == Mode::kWebSocket && !self->ws_disconnect_told_) self->WsDisconnect(1006, "");
    self->Destroy();
    return;
  }
  self->Parse(buf->base, static_cast<size_t>(nread));
  self->Flush();
}

void Connection::Parse(const char* data, size_t size) {
  switch (mode_) {
    case Mode::kClosing:
      return;  // discarded
    case Mode::kWebSocket:
      if (!ws_close_received_) reader_->Feed(data, size);
      return;
    case Mode::kHttp:
      if (ending_) return;
      if (parser_paused_) {
        pending_input_.append(data, size);
        UpdateReading();
        return;
      }
      if (request_ == nullptr && timer_kind_ != kTimerHead) {
        timer_kind_ = kTimerHead;
        StartTimer(server_->options().timeout_headers_ms);
      }
      ParseHttp(data, size);
      return;
  }
}

// Parses until the bytes are used up or a request completes whose response is not finished yet.
void Connection::ParseHttp(const char* data, size_t size) {
  while (!closed_ && !ending_) {
    size_t consumed = 0;
    RequestParser::Result result = parser_.Execute(data, size, &consumed);
    if (result == RequestParser::Result::kNeedMore) return;
    if (result == RequestParser::Result::kError) {
      int status = parser_.error_status();
      if (request_ != nullptr && request_->websocket && status == 400 && !request_->denial_body.empty()) {
        RefuseHttp(400, request_->denial_body);
      } else {
        RefuseHttp(status, status == 400 ? "Invalid HTTP request received." : std::string());
      }
      return;
    }
    data += consumed;
    size -= consumed;
    parser_paused_ = true;
    upgrade_paused_ = result == RequestParser::Result::kUpgrade;
    if (request_ != nullptr && request_->websocket) {
      pending_input_.assign(data, size);  // frames sent before the 101: read once accepted
      UpdateReading();
      return;
    }
    if (request_ == nullptr || !request_->response_complete) {
      pending_input_.assign(data, size);
      UpdateReading();
      return;
    }
    // The response went out before the request's body ended: on to the next request.
    FinishRequest();
    if (ending_) return;
    parser_paused_ = false;
    if (upgrade_paused_) parser_.ResumeAfterUpgrade();
    else parser_.Resume();
    timer_kind_ = size > 0 ? kTimerHead : kTimerKeepAlive;
    StartTimer(size > 0 ? server_->options().timeout_headers_ms : server_->options().timeout_keep_alive_ms);
  }
}

// The current request is over on our side (response complete, body read): keep-alive or close.
void Connection::FinishRequest() {
  std::unique_ptr<Request> request = std::move(request_);
  body_paused_ = false;
  // Still routed to this connection until the app returns (also when it was told the client
  // left): kRequestDone ends it, Destroy() unroutes it.
  if (!request->app_done) finished_ids_.push_back(request->id);
  if (!request->plan.keep_alive || server_closing_) EndAfterWrites();
}

// After the response completed: when the request's body was read to its end too, go on with
// the next request (already buffered, or to come on this keep-alive connection).
void Connection::ContinueAfterResponse() {
  if (request_ == nullptr || !request_->response_complete || !request_->body_complete || !parser_paused_) return;
  FinishRequest();
  if (ending_ || closed_) return;
  parser_paused_ = false;
  if (upgrade_paused_) parser_.ResumeAfterUpgrade();
  else parser_.Resume();
  std::string input;
  input.swap(pending_input_);
  timer_kind_ = input.empty() ? kTimerKeepAlive : kTimerHead;
  StartTimer(input.empty() ? server_->options().timeout_keep_alive_ms : server_->options().timeout_headers_ms);
  if (!input.empty()) ParseHttp(input.data(), input.size());
  UpdateReading();
}

// -- requests ----------------------------------------------------------------------------------

void Connection::FillHead(HttpRequestHead& head, bool websocket) {
  head.scheme = websocket ? "ws" : "http";
  head.root_path = server_->options().root_path;
  head.client_host = client_host_;
  head.client_port = client_port_;
  head.server_host = server_host_;
  head.server_port = server_port_;
}

int Connection::OnRequestHead(ParsedRequest&& parsed) {
  StopTimer();
  const ServerOptions& o = server_->options();
  auto request = std::make_unique<Request>();
  HttpRequestHead& head = *parsed.head;
  request->websocket = parsed.upgrade && IsWebSocketUpgrade(head.headers);
  if (request->websocket) {
    WsHandshakeRequest handshake;
    std::string invalid = ValidateWebSocketRequest(head.method, head.headers, o.ws_per_message_deflate, &handshake);
    if (!invalid.empty()) {
      request->denial_body = invalid;
      request_ = std::move(request);
      return 400;
    }
    request->ws_key = handshake.key;
    request->ws_deflate_accepted = handshake.deflate;
    request->ws_deflate = handshake.deflate_params;
    request->ws_extensions_response = handshake.deflate_response;
  }
  // The loop thread is gone (the app stopped it, or the handler closed): 503, as on node:http.
  if (server_->router().loop_gone()) return 503;
  if (o.limit_concurrency >= 0 && static_cast<int64_t>(server_->in_flight()) >= o.limit_concurrency) return 503;
  if (o.max_request_body >= 0 && !parsed.chunked && parsed.content_length > static_cast<uint64_t>(o.max_request_body))
    return 413;
  request->facts.head_method = head.method == "HEAD";
  request->facts.http10 = head.http_version == "1.0";
  request->keep_alive = parsed.keep_alive && !request->websocket;
  request->has_body = parsed.has_body;
  request->body_complete = false;
  request->expect_continue = parsed.expect_continue && parsed.has_body;
  if (o.access_log) request->log_line = head.method + " " + head.target + " HTTP/" + head.http_version;
  request->id = server_->router().Add(this);
  server_->RequestBegan();
  FillHead(head, request->websocket);
  uint64_t id = request->id;
  bool websocket = request->websocket;
  bool has_body = request->has_body;
  bool expect = request->expect_continue;
  request_ = std::move(request);
  if (websocket) {
    ToLoop m(ToLoop::Kind::kWsConnect, id);
    m.head = std::move(parsed.head);
    server_->Push(std::move(m));
    return 0;
  }
  ToLoop m(ToLoop::Kind::kHttpStart, id);
  m.head = std::move(parsed.head);
  m.flag = !has_body;
  server_->StartRequest(std::move(m));
  if (expect) {
    // The body waits for the app's first receive(): paused from the start, and the 100
    // Continue goes out with the resume (uvicorn's behaviour).
    body_paused_ = true;
    ToLoop paused(ToLoop::Kind::kHttpBody, id);
    paused.flag = true;
    paused.flag2 = true;
    server_->Push(std::move(paused));
    UpdateReading();
  }
  return 0;
}

void Connection::OnRequestBody(const char* data, size_t size) {
  Request* r = request_.get();
  if (r == nullptr || r->disconnected || r->response_complete || r->app_done) return;  // unread body: discarded
  r->expect_continue = false;  // the client sent it anyway
  r->received += static_cast<int64_t>(size);
  int64_t max = server_->options().max_request_body;
  if (max >= 0 && r->received > max) {
    if (r->response_started) {
      AbortResponse();
    } else {
      RefuseHttp(413);
    }
    return;
  }
  r->unacked += static_cast<int64_t>(size);
  bool pause = r->unacked >= server_->options().request_high_water;
  ToLoop m(ToLoop::Kind::kHttpBody, r->id);
  m.bytes.assign(data, size);
  m.flag = true;
  m.flag2 = pause;
  server_->Push(std::move(m));
  if (pause) {
    body_paused_ = true;
    UpdateReading();
  }
}

void Connection::OnRequestComplete() {
  Request* r = request_.get();
  if (r == nullptr) return;
  r->body_complete = true;
  r->expect_continue = false;
  if (r->has_body && !r->disconnected && !r->response_complete && !r->app_done) {
    ToLoop m(ToLoop::Kind::kHttpBody, r->id);
    m.flag = false;
    server_->Push(std::move(m));
  }
}

// A refusal written by the server itself (400, 408, 413, 431, 503): the app, if it was serving
// this request, is told the client left; the connection closes after the response.
void Connection::RefuseHttp(int status, const std::string& body) {
  if (request_ != nullptr && request_->response_started) {
    AbortResponse();
    return;
  }
  TellDisconnect();
  if (request_ != nullptr) request_->response_started = request_->response_complete = true;
  const ServerOptions& o = server_->options();
  out_.append(PlainResponse(status, server_->Date(), o.server_header, body));
  Dirty();
  EndAfterWrites();
}

void Connection::TellDisconnect() {
  Request* r = request_.get();
  if (r == nullptr || r->id == 0 || r->disconnected || r->app_done) return;
  r->disconnected = true;
  if (r->websocket) {
    WsDisconnect(1006, "");
  } else {
    server_->Push(ToLoop(ToLoop::Kind::kHttpDisconnect, r->id));
  }
}

// -- events from the app -----------------------------------------------------------------------

void Connection::OnEvent(ToJs& m) {
  if (request_ == nullptr || m.id != request_->id) {
    // A request whose response is complete: only its end matters (and drains, for safety).
    if (m.kind == ToJs::Kind::kRequestDone) {
      for (size_t i = 0; i < finished_ids_.size(); ++i) {
        if (finished_ids_[i] == m.id) {
          finished_ids_.erase(finished_ids_.begin() + static_cast<std::ptrdiff_t>(i));
          server_->RequestEnded();
          break;
        }
      }
    } else if ((m.kind == ToJs::Kind::kResponseBody || m.kind == ToJs::Kind::kWsSend) && m.flag2) {
      AckDrain(m.id);
    }
    return;
  }
  if (request_->websocket) {
    WsEvent(m);
  } else {
    HttpEvent(m);
  }
}

void Connection::AckDrain(uint64_t id) { server_->Push(ToLoop(ToLoop::Kind::kHttpDrained, id)); }

// The app waits in send() until what is queued for the socket falls to the high-water mark.
void Connection::MaybeAckDrain() {
  if (!drain_waiting_ || static_cast<int64_t>(write_queue_) > server_->options().response_high_water) return;
  drain_waiting_ = false;
  AckDrain(drain_id_);
}

void Connection::HttpEvent(ToJs& m) {
  Request* r = request_.get();
  switch (m.kind) {
    case ToJs::Kind::kResponseStart:
      ResponseStart(m);
      break;
    case ToJs::Kind::kResponseBody:
      ResponseBody(m);
      break;
    case ToJs::Kind::kResumeBody:
      r->unacked = 0;
      if (r->expect_continue && !r->response_started && !r->disconnected) {
        out_.append("HTTP/1.1 100 Continue\r\n\r\n");
        r->expect_continue = false;
        Dirty();
      }
      body_paused_ = false;
      UpdateReading();
      break;
    case ToJs::Kind::kRequestDone:
      r->app_done = true;
      server_->RequestEnded();
      if (m.flag || !r->response_complete) {
        AbortResponse();
      } else {
        ContinueAfterResponse();
      }
      break;
    default:
      break;
  }
}

void Connection::ResponseStart(ToJs& m) {
  Request* r = request_.get();
  if (r->disconnected || r->response_started) return;
  r->response_started = true;
  r->status = m.status;
  RequestFacts facts = r->facts;
  // An unread body the client may still send after the response: the connection cannot be
  // reused (what follows might be body or a request).
  facts.keep_alive = r->keep_alive && !server_closing_ && !(r->expect_continue && !r->body_complete);
  const ServerOptions& o = server_->options();
  r->plan = AppendResponseHead(&out_, m.status, m.headers, facts, server_->Date(), o.server_header, &o.default_headers);
  Dirty();
}

void Connection::ResponseBody(ToJs& m) {
  Request* r = request_.get();
  bool more = m.flag;
  bool wants_drain = m.flag2;
  if (r->disconnected || !r->response_started || r->response_complete) {
    if (wants_drain) AckDrain(r->id);
    return;
  }
  const std::string& body = m.bytes;
  switch (r->plan.framing) {
    case Framing::kNoBody:
      break;
    case Framing::kLength:
      if (r->written + body.size() > r->plan.length) {
        out_.append(body, 0, static_cast<size_t>(r->plan.length - r->written));
        Dirty();
        server_->router().Log(40, "Response content longer than Content-Length");
        AbortResponse();
        if (wants_drain) AckDrain(r->id);
        return;
      }
      r->written += body.size();
      if (out_.empty() && body.size() >= 4096) out_ = std::move(m.bytes);
      else out_.append(body);
      if (!more && r->written < r->plan.length) {
        Dirty();
        server_->router().Log(40, "Response content shorter than Content-Length");
        AbortResponse();
        return;
      }
      break;
    case Framing::kChunked:
      AppendChunk(&out_, body.data(), body.size());
      if (!more) out_.append(kLastChunk, sizeof kLastChunk - 1);
      break;
    case Framing::kUntilClose:
      if (out_.empty() && body.size() >= 4096) out_ = std::move(m.bytes);
      else out_.append(body);
      break;
  }
  Dirty();
  if (wants_drain) {
    drain_waiting_ = true;
    drain_id_ = r->id;
  }
  if (!more) {
    r->response_complete = true;
    LogAccess();
    if (!r->plan.keep_alive || r->plan.framing == Framing::kUntilClose) {
      EndAfterWrites();
    } else {
      ContinueAfterResponse();
    }
  }
}

// Closes the connection without completing the response (what was written is flushed first).
void Connection::AbortResponse() {
  LogAccess();  // like uvicorn, a response that started is logged even when it could not complete
  TellDisconnect();
  if (request_ != nullptr) request_->response_complete = true;
  EndAfterWrites();
}

void Connection::LogAccess() {
  Request* r = request_.get();
  if (r == nullptr || r->logged || r->log_line.empty() || r->status == 0) return;
  r->logged = true;
  server_->AccessLog(client_host_ + ":" + std::to_string(client_port_), r->log_line, r->status);
}

// -- WebSocket -----------------------------------------------------------------------------------

void Connection::WsEvent(ToJs& m) {
  Request* r = request_.get();
  switch (m.kind) {
    case ToJs::Kind::kWsAccept:
      WsAccept(m);
      break;
    case ToJs::Kind::kWsSend:
      if (mode_ != Mode::kWebSocket || ws_close_sent_ || closed_) {
        if (m.flag2) AckDrain(r->id);
        break;
      }
      // Like `ws`, messages under 1 KiB go uncompressed (compression is per message).
      AppendWsMessage(&out_, m.flag, m.bytes.data(), m.bytes.size(), m.bytes.size() < 1024 ? nullptr : deflate_.get());
      if (m.flag2) {
        drain_waiting_ = true;
        drain_id_ = r->id;
      }
      Dirty();
      break;
    case ToJs::Kind::kWsClose:
      if (mode_ == Mode::kHttp) {
        if (r->response_started || r->disconnected) break;
        // Closed before accepting: 403 (no body), like the node:http path.
        r->response_started = r->response_complete = true;
        RequestFacts facts;
        facts.keep_alive = false;
        AppendResponseHead(&out_, 403, {{"content-length", "0"}}, facts, server_->Date(), server_->options().server_header);
        Dirty();
        WsDisconnect(1006, "");
        EndAfterWrites();
      } else if (mode_ == Mode::kWebSocket && !ws_close_sent_) {
        WsSendClose(static_cast<int>(m.number), m.bytes);
      }
      break;
    case ToJs::Kind::kResponseStart:
    case ToJs::Kind::kResponseBody:
      WsDenial(m);
      break;
    case ToJs::Kind::kResumeBody:
      ws_unacked_ = 0;
      body_paused_ = false;
      UpdateReading();
      break;
    case ToJs::Kind::kRequestDone:
      r->app_done = true;
      ws_app_done_ = true;
      server_->RequestEnded();
      if (m.flag) {
        Destroy();
      } else if (mode_ == Mode::kHttp) {
        if (!r->response_started) Destroy();  // the handshake was never answered
      } else if (mode_ == Mode::kWebSocket && !ws_close_sent_) {
        // the app's task ended without a close (cancelled at the graceful-shutdown timeout)
        WsSendClose(server_closing_ ? 1012 : 1011, server_closing_ ? "Service Restart" : "");
      }
      break;
    default:
      break;
  }
}

void Connection::WsAccept(ToJs& m) {
  Request* r = request_.get();
  if (r->disconnected || r->response_started || mode_ != Mode::kHttp) return;
  r->response_started = true;
  std::string head = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ";
  head += WebSocketAcceptKey(r->ws_key);
  head += "\r\n";
  if (m.flag) head += "sec-websocket-protocol: " + m.bytes + "\r\n";
  if (r->ws_deflate_accepted) head += "sec-websocket-extensions: " + r->ws_extensions_response + "\r\n";
  for (const auto& [name, value] : m.headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  out_.append(head);
  Dirty();
  mode_ = Mode::kWebSocket;
  ws_id_ = r->id;
  if (r->ws_deflate_accepted) deflate_ = std::make_unique<WsDeflate>(r->ws_deflate);
  reader_ = std::make_unique<WsFrameReader>(this, server_->options().ws_max_size, deflate_.get());
  const ServerOptions& o = server_->options();
  if (o.ws_ping_interval_ms > 0) {
    timer_kind_ = kTimerPing;
    StartTimer(o.ws_ping_interval_ms);
  }
  if (server_closing_) {
    WsSendClose(1012, "Service Restart");
    return;
  }
  if (!pending_input_.empty()) {
    std::string input;
    input.swap(pending_input_);
    reader_->Feed(input.data(), input.size());
  }
  UpdateReading();
}

void Connection::WsSendClose(int code, const std::string& reason) {
  if (ws_close_sent_) return;
  ws_close_sent_ = true;
  AppendWsClose(&out_, code, reason);
  Dirty();
  if (ws_close_received_) {
    EndAfterWrites();
  } else {
    timer_kind_ = kTimerCloseWait;
    StartTimer(kCloseWaitMs);
  }
}

void Connection::WsDisconnect(int code, const std::string& reason) {
  Request* r = request_.get();
  if (ws_disconnect_told_ || r == nullptr || !r->websocket) return;
  ws_disconnect_told_ = true;
  r->disconnected = true;
  if (r->app_done) return;
  ToLoop m(ToLoop::Kind::kWsDisconnect, r->id);
  m.number = code;
  m.bytes = reason;
  server_->Push(std::move(m));
}

// websocket.http.response.start/body: the denial response, written once complete.
void Connection::WsDenial(ToJs& m) {
  Request* r = request_.get();
  if (mode_ != Mode::kHttp || r->response_complete || r->disconnected) {
    if (m.kind == ToJs::Kind::kResponseBody && m.flag2) AckDrain(r->id);
    return;
  }
  if (m.kind == ToJs::Kind::kResponseStart) {
    r->denial_status = m.status;
    r->denial_headers = std::move(m.headers);
    return;
  }
  r->denial_body.append(m.bytes);
  if (m.flag2) AckDrain(r->id);
  if (m.flag) return;  // more body to come
  r->response_started = r->response_complete = true;
  Headers headers;
  bool has_length = false;
  for (auto& [name, value] : r->denial_headers) {
    if (EqualsNoCase(name, "connection") || EqualsNoCase(name, "transfer-encoding")) continue;
    if (EqualsNoCase(name, "content-length")) has_length = true;
    headers.emplace_back(name, value);
  }
  if (!has_length) headers.emplace_back("content-length", std::to_string(r->denial_body.size()));
  RequestFacts facts;
  facts.keep_alive = false;
  AppendResponseHead(&out_, r->denial_status, headers, facts, server_->Date(), server_->options().server_header,
                     &server_->options().default_headers);
  out_.append(r->denial_body);
  Dirty();
  WsDisconnect(1006, "");
  EndAfterWrites();
}

void Connection::OnWsMessage(bool text, std::string&& data) {
  if (ws_disconnect_told_ || ws_app_done_ || ws_close_sent_) return;
  ++ws_unacked_;
  bool pause = ws_unacked_ >= server_->options().ws_max_queue;
  ToLoop m(ToLoop::Kind::kWsMessage, ws_id_);
  m.bytes = std::move(data);
  m.flag = text;
  m.flag2 = pause;
  server_->Push(std::move(m));
  if (pause) {
    body_paused_ = true;
    UpdateReading();
  }
}

void Connection::OnWsPing(std::string&& payload) {
  if (ws_close_sent_) return;
  AppendWsFrame(&out_, kPong, payload.data(), payload.size());
  Dirty();
}

void Connection::OnWsPong(std::string&&) {
  if (!awaiting_pong_) return;
  awaiting_pong_ = false;
  if (timer_kind_ == kTimerPong) {
    timer_kind_ = kTimerPing;
    StartTimer(server_->options().ws_ping_interval_ms);
  }
}

void Connection::OnWsClose(int code, std::string&& reason) {
  ws_close_received_ = true;
  if (!ws_close_sent_) {
    ws_close_sent_ = true;
    AppendWsClose(&out_, code, "");  // echo the peer's code (1005: an empty close)
    Dirty();
  }
  WsDisconnect(code, reason);
  EndAfterWrites();
}

void Connection::OnWsProtocolError(int code, const char* reason) {
  if (!ws_close_sent_) {
    ws_close_sent_ = true;
    AppendWsClose(&out_, code, reason);
    Dirty();
  }
  ws_close_received_ = true;
  WsDisconnect(code, "");
  EndAfterWrites();
}

// -- server life -------------------------------------------------------------------------------

void Connection::Shutdown(uint64_t idle_grace_ms) {
  server_closing_ = true;
  if (closed_ || ending_) return;
  if (mode_ == Mode::kWebSocket) {
    WsSendClose(1012, "Service Restart");
    Flush();
  } else if (mode_ == Mode::kHttp && request_ == nullptr && !parser_.InHead() && pending_input_.empty()) {
    if (idle_grace_ms == 0) {
      EndAfterWrites();  // idle keep-alive connection
    } else {
      timer_kind_ = kTimerKeepAlive;  // closes it unless a request comes first
      StartTimer(idle_grace_ms);
    }
  }
}

void Connection::OnLoopGone() {
  Request* r = request_.get();
  finished_ids_.clear();
  if (r == nullptr) return;
  r->app_done = true;  // nothing more will come from the app
  ws_app_done_ = true;
  if (mode_ == Mode::kWebSocket) {
    WsSendClose(1011, "Server error");
  } else if (!r->response_started) {
    r->disconnected = true;
    RefuseHttp(503);
  } else {
    r->disconnected = true;
    AbortResponse();
  }
}

// -- writing -------------------------------------------------------------------------------------

void Connection::Dirty() {
  if (dirty_) return;
  dirty_ = true;
  server_->MarkDirty(this);
}

void Connection::Flush() {
  dirty_ = false;
  if (closed_ || shutting_down_) {
    out_.clear();
    return;
  }
  if (!out_.empty()) {
    auto* stream = as_stream();
    size_t done = 0;
    if (write_queue_ == 0) {
      uv_buf_t buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
      int n = uv_try_write(stream, &buf, 1);
      if (n > 0) {
        done = static_cast<size_t>(n);
      } else if (n < 0 && n != UV_EAGAIN && n != UV_ENOSYS) {
        out_.clear();
        Destroy();
        return;
      }
    }
    if (done < out_.size()) {
      auto* w = new WriteReq;
      w->req.data = this;
      if (done == 0) w->data = std::move(out_);
      else w->data.assign(out_, done, std::string::npos);
      uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
      write_queue_ += w->data.size();
      if (uv_write(&w->req, stream, &buf, 1, &Connection::OnWrite) != 0) {
        write_queue_ -= w->data.size();
        delete w;
        out_.clear();
        Destroy();
        return;
      }
    }
    if (out_.capacity() > 64 * 1024) std::string().swap(out_);
    else out_.clear();
  }
  MaybeAckDrain();
  MaybeEnd();
}

void Connection::OnWrite(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* self = static_cast<Connection*>(req->data);
  self->write_queue_ -= w->data.size();
  delete w;
  if (self->closed_) return;
  if (status < 0) {
    self->Destroy();
    return;
  }
  self->MaybeAckDrain();
  self->MaybeEnd();
}

void Connection::EndAfterWrites() {
  if (ending_) return;
  ending_ = true;
  UpdateReading();
  MaybeEnd();
}

// Once everything is written: half-close, then read (and discard) until the peer closes too, so
// that unread request bytes do not turn the close into a reset that loses the response.
void Connection::MaybeEnd() {
  if (!ending_ || closed_ || shutting_down_ || dirty_ || !out_.empty() || write_queue_ > 0) return;
  shutting_down_ = true;
  auto* req = new uv_shutdown_t;
  req->data = this;
  if (uv_shutdown(req, as_stream(), &Connection::OnShutdown) != 0) {
    delete req;
    Destroy();
  }
}

void Connection::OnShutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<Connection*>(req->data);
  delete req;
  if (self->closed_) return;
  if (status < 0) {
    self->Destroy();
    return;
  }
  self->TellDisconnect();  // an app still running after the connection ended
  self->mode_ = Mode::kClosing;
  self->timer_kind_ = kTimerCloseWait;
  self->StartTimer(kCloseWaitMs);
  self->UpdateReading();
}

void Connection::Destroy() {
  if (closed_) return;
  LogAccess();  // a response the client abandoned is logged too (uvicorn logs at the start)
  TellDisconnect();
  closed_ = true;
  RequestRouter& router = server_->router();
  if (request_ != nullptr && !request_->app_done) {
    router.Remove(request_->id);
    server_->RequestEnded();
    request_->app_done = true;
  }
  for (uint64_t id : finished_ids_) {
    router.Remove(id);
    server_->RequestEnded();
    server_->Push(ToLoop(ToLoop::Kind::kHttpDisconnect, id));
  }
  finished_ids_.clear();
  uv_timer_stop(&timer_);
  uv_close(as_handle(), &Connection::OnClose);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &Connection::OnClose);
}

void Connection::OnClose(uv_handle_t* handle) {
  auto* self = static_cast<Connection*>(handle->data);
  if (--self->open_handles_ > 0) return;
  self->server_->Forget(self);
  delete self;
}

}  // namespace node_asgi::server
