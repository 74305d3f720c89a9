// One TCP connection of the native server: reads and parses requests (one at a time, pipelined
// ones in order), hands them to the loop thread, writes the app's responses with the framing
// HTTP/1.1 needs, and, after a WebSocket handshake the app accepted, speaks RFC 6455 on it.
// JS thread (Node's loop) only.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "request_parser.h"
#include "request_router.h"
#include "response_head.h"
#include "ws_deflate.h"
#include "ws_frame.h"

namespace node_asgi::server {

class HttpServer;

class Connection : public RequestTarget, public RequestParserSink, public WsFrameSink {
 public:
  explicit Connection(HttpServer* server);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Accepts a pending connection from `listener` and starts reading. False: nothing to accept
  // (the connection deletes itself).
  bool Accept(uv_stream_t* listener);
  // Takes over `fd`, a connected TCP or Unix socket accepted elsewhere (a cluster primary, a
  // net.Server on --uds/--fd), and starts reading. False: libuv refused it (the connection closes
  // the descriptor and deletes itself).
  bool Adopt(int fd);
  // Writes what the last batch of events produced (one write for all of it).
  void Flush();
  // The server is closing: WebSockets get 1012, busy connections close after their response, and
  // idle ones close now or, with `idle_grace_ms`, after that long unless a request comes first
  // (it is served with `connection: close`): a client that sent a request just as the server
  // began closing gets its response instead of a reset.
  void Shutdown(uint64_t idle_grace_ms);
  // Closes at once (no more writes); the app is told if it is serving a request here.
  void Destroy();

  // RequestTarget
  void OnEvent(ToJs& message) override;
  void OnLoopGone() override;

  // RequestParserSink
  int OnRequestHead(ParsedRequest&& request) override;
  void OnRequestBody(const char* data, size_t size) override;
  void OnRequestComplete() override;

  // WsFrameSink
  void OnWsMessage(bool text, std::string&& data) override;
  void OnWsPing(std::string&& payload) override;
  void OnWsPong(std::string&& payload) override;
  void OnWsClose(int code, std::string&& reason) override;
  void OnWsProtocolError(int code, const char* reason) override;

 private:
  enum class Mode : uint8_t { kHttp, kWebSocket, kClosing };
  // The request the app is serving now (HTTP or a WebSocket).
  struct Request {
    uint64_t id = 0;
    bool websocket = false;
    RequestFacts facts;
    bool keep_alive = true;
    bool has_body = false;
    bool body_complete = false;   // the parser reached the message end
    bool expect_continue = false;  // 100 Continue still owed if the app reads
    int64_t received = 0;
    int64_t unacked = 0;  // body bytes since the app last asked for more
    bool response_started = false;
    bool response_complete = false;
    bool app_done = false;        // kRequestDone arrived
    bool disconnected = false;    // the app was told http.disconnect (or the request was refused)
    ResponsePlan plan;
    int status = 0;
    std::string log_line;  // "METHOD target HTTP/x.y" when the access log is on
    bool logged = false;
    uint64_t written = 0;  // body bytes written (kLength)
    // WebSocket handshake
    std::string ws_key;
    std::string ws_extensions_response;  // negotiated permessage-deflate, "" if none
    DeflateParams ws_deflate;
    bool ws_deflate_accepted = false;
    // denial response (websocket.http.response.*)
    int denial_status = 0;
    Headers denial_headers;
    std::string denial_body;
  };

  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnShutdown(uv_shutdown_t* req, int status);
  static void OnClose(uv_handle_t* handle);
  static void OnTimer(uv_timer_t* timer);

  void Parse(const char* data, size_t size);
  void ParseHttp(const char* data, size_t size);
  void ContinueAfterResponse();
  void RefuseHttp(int status, const std::string& body = std::string());
  void UpdateReading();
  void Dirty();
  void WriteNow(std::string&& bytes);
  void EndAfterWrites();
  void MaybeEnd();
  void StartTimer(uint64_t ms);
  void StopTimer();
  void TellDisconnect();
  void FinishRequest();
  void FillHead(HttpRequestHead& head, bool websocket);

  void HttpEvent(ToJs& m);
  void ResponseStart(ToJs& m);
  void ResponseBody(ToJs& m);
  void AbortResponse();
  void LogAccess();
  void AckDrain(uint64_t id);
  void MaybeAckDrain();

  void WsEvent(ToJs& m);
  void WsAccept(ToJs& m);
  void WsSendClose(int code, const std::string& reason);
  void WsDisconnect(int code, const std::string& reason);
  void WsDenial(ToJs& m);

  void InitHandles();  // the socket handle (TCP or pipe, per is_tcp_) and the timer
  // After Accept/Adopt: with `attached` 0 (the socket is the handle's), addresses, the head timer
  // and reading; else closes both handles and returns false.
  bool Begin(int attached);

  uv_stream_t* as_stream() { return reinterpret_cast<uv_stream_t*>(&socket_); }
  uv_handle_t* as_handle() { return reinterpret_cast<uv_handle_t*>(&socket_); }

  HttpServer* server_;
  // TCP, or a Unix socket handed over by JS (then scope client and server are None, like uvicorn)
  union Socket {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } socket_;
  bool is_tcp_ = true;
  uv_timer_t timer_;
  int open_handles_ = 0;
  Mode mode_ = Mode::kHttp;
  RequestParser parser_;
  std::unique_ptr<Request> request_;  // the request in progress, or null between requests
  std::vector<uint64_t> finished_ids_;  // requests whose response is done but whose app still runs
  std::string pending_input_;  // bytes read while the parser is paused (pipelined requests)
  bool parser_paused_ = false;
  bool upgrade_paused_ = false;  // paused by an upgrade that turned out not to be a WebSocket
  std::string out_;            // written by the next Flush()
  bool dirty_ = false;
  size_t write_queue_ = 0;     // bytes handed to libuv and not yet written
  bool drain_waiting_ = false;  // the app waits for write_queue_ to fall below the high-water mark
  uint64_t drain_id_ = 0;
  bool reading_ = false;
  bool body_paused_ = false;   // the app has not asked for more body / messages
  bool ending_ = false;        // closing after the queued writes
  bool shutting_down_ = false;  // uv_shutdown issued
  bool closed_ = false;         // uv_close issued
  bool server_closing_ = false;
  bool saw_bytes_ = false;      // any byte of the current head arrived (408 vs silent close)
  std::string client_host_, server_host_;
  int client_port_ = 0, server_port_ = 0;
  // WebSocket mode
  std::unique_ptr<WsDeflate> deflate_;
  std::unique_ptr<WsFrameReader> reader_;
  uint64_t ws_id_ = 0;
  size_t ws_unacked_ = 0;
  bool ws_close_sent_ = false;
  bool ws_close_received_ = false;
  bool ws_disconnect_told_ = false;
  bool ws_app_done_ = false;
  bool awaiting_pong_ = false;
  uint8_t timer_kind_ = 0;  // what timer_ measures (TimerKind in connection.cc)
};

}  // namespace node_asgi::server
