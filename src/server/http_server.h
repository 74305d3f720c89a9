// The native HTTP/1.1 + WebSocket server: a libuv TCP listener on Node's own event loop that
// accepts connections, hands their requests to the loop thread through the handler's Bridge and
// writes the responses, with no JavaScript per request. JS thread (Node's loop) only: every
// socket, timer and connection here belongs to it; the Bridge is the only cross-thread part.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "../core/bridge.h"
#include "request_router.h"
#include "response_head.h"

namespace node_asgi::server {

class Connection;

// An IPv4/IPv6 socket address as text and port; returns "IPv4", "IPv6", or "" for another family.
const char* AddressOf(const sockaddr_storage& addr, std::string* host, int* port);

struct ServerOptions {
  std::string root_path;
  std::string server_header = "node-asgi";  // "" sends none
  Headers default_headers;  // sent with every app response unless the app sends the same name
  bool date_header = true;
  size_t max_header_size = 16384;
  size_t max_header_count = 100;
  int64_t max_request_body = -1;   // bytes; -1: no limit
  int64_t limit_concurrency = -1;  // requests + WebSockets in flight; -1: no limit
  int64_t request_high_water = 64 * 1024;
  int64_t response_high_water = 64 * 1024;
  uint64_t timeout_headers_ms = 30000;
  uint64_t timeout_keep_alive_ms = 5000;
  size_t ws_max_size = 16 * 1024 * 1024;
  size_t ws_max_queue = 32;
  uint64_t ws_ping_interval_ms = 20000;  // 0: no pings
  uint64_t ws_ping_timeout_ms = 20000;
  bool ws_per_message_deflate = true;
  bool access_log = false;  // lines go to on_access_log once per turn of the loop
};

class HttpServer : public BatchListener {
 public:
  // `on_closed` runs (JS thread) once the listener and every connection are closed.
  HttpServer(uv_loop_t* loop, std::shared_ptr<Bridge> bridge, std::shared_ptr<RequestRouter> router,
             ServerOptions options, std::function<void()> on_closed);
  ~HttpServer() override;

  // Binds and listens; returns 0 or a libuv error code (message in *error).
  int Listen(const std::string& host, int port, int backlog, std::string* error);
  // Serves a connected socket accepted elsewhere (the server owns `fd` from now on, also on
  // failure); returns 0 or a libuv error code (UV_ECANCELED once the server is closing).
  int Adopt(int fd);
  // The bound address: host, port, family ("IPv4"/"IPv6").
  bool Address(std::string* host, int* port, std::string* family) const;
  // Graceful close: stop accepting, close idle connections (after `idle_grace_ms`, serving a
  // request that arrives meanwhile; see Connection::Shutdown), close WebSockets with 1012, let the
  // requests in flight finish (their connections close after their responses).
  void Close(uint64_t idle_grace_ms = 0);
  // Immediate close of everything (the environment is going away, or the graceful timeout ran out).
  void CloseNow();
  bool closing() const { return closing_; }
  void SetOnClosed(std::function<void()> on_closed) { on_closed_ = std::move(on_closed); }
  // Receives the access log lines of a turn of the loop, joined with '\n' (options.access_log).
  void SetOnAccessLog(std::function<void(std::string&&)> on_access_log) { on_access_log_ = std::move(on_access_log); }
  // A finished response: `client - "METHOD target HTTP/version" status`, like the node:http path.
  void AccessLog(const std::string& client, const std::string& request_line, int status);
  size_t connection_count() const { return connections_.size(); }

  // -- for connections ---------------------------------------------------------------------
  const ServerOptions& options() const { return options_; }
  RequestRouter& router() { return *router_; }
  // A new request for the loop thread: queued, and the loop woken once at the end of this poll
  // phase (a uv_check handle), or at once when a batch is full.
  void StartRequest(ToLoop&& message);
  // Anything else (bodies, WebSocket messages, acknowledgements, disconnects): wakes at once.
  void Push(ToLoop&& message) { bridge_->PushToLoop(std::move(message)); }
  // Requests and WebSockets the app is serving now (limitConcurrency).
  size_t in_flight() const { return in_flight_; }
  void RequestBegan() { ++in_flight_; }
  void RequestEnded() { --in_flight_; }
  const std::string& Date();
  // One read buffer for every connection: data is parsed inside the read callback, and what must
  // wait is copied by the connection.
  uv_buf_t ReadBuffer() { return uv_buf_init(read_buffer_.get(), kReadBufferSize); }
  void MarkDirty(Connection* connection);
  void Forget(Connection* connection);  // the connection is closed
  uv_loop_t* loop() const { return loop_; }

  void AfterBatch() override;  // flushes the connections the batch wrote to

 private:
  static constexpr size_t kReadBufferSize = 64 * 1024;
  static void OnConnection(uv_stream_t* listener, int status);
  static void OnCheck(uv_check_t* check);
  void ArrangeCheck();
  void MaybeClosed();

  uv_loop_t* loop_;
  std::shared_ptr<Bridge> bridge_;
  std::shared_ptr<RequestRouter> router_;
  ServerOptions options_;
  std::function<void()> on_closed_;
  std::function<void(std::string&&)> on_access_log_;
  std::string access_;  // lines not yet handed to on_access_log_
  uv_tcp_t* listener_ = nullptr;  // heap: freed in its close callback
  uv_check_t* check_ = nullptr;   // arranges one loop wakeup per poll phase
  bool check_active_ = false;
  bool listening_ = false;
  bool closing_ = false;
  bool closed_ = false;
  size_t in_flight_ = 0;
  std::unordered_set<Connection*> connections_;
  std::vector<Connection*> dirty_;
  std::unique_ptr<char[]> read_buffer_;
  DateCache date_;
};

}  // namespace node_asgi::server
