// The plain C++ values that cross between the JS thread and the loop thread (no Napi, no Python).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace node_asgi {

// Header names and values as latin-1 bytes, in the order received or sent, duplicates kept.
using Headers = std::vector<std::pair<std::string, std::string>>;

// What the JS thread knows about one HTTP request when its head has arrived.
struct HttpRequestHead {
  std::string method;
  std::string scheme;        // "http" | "https"
  std::string http_version;  // "1.0" | "1.1" | "2"
  std::string target;        // request target as received: path + optional "?query"
  std::string root_path;     // mount prefix (already percent-decoded text, UTF-8)
  Headers headers;           // names as received; lower-cased when the scope is built
  std::string client_host;   // empty → scope["client"] is None
  int client_port = 0;
  std::string server_host;   // empty → scope["server"] is None
  int server_port = 0;
};

// A Python exception flattened to text, for JS.
struct PythonErrorInfo {
  std::string type;
  std::string message;
  std::string traceback;
};

// JS thread → loop thread.
struct ToLoop {
  enum class Kind : uint8_t {
    kHttpStart,       // head set; flag = the request has no body (nothing more will come)
    kHttpBody,        // bytes, flag = more_body, flag2 = JS paused the request after this chunk
    kHttpDisconnect,  // the client went away, or the response could not be delivered
    kHttpDrained,     // the response sink (or WebSocket) drained: the app's send() may continue
    kShutdown,        // number = graceful timeout in seconds (< 0: wait forever)
    kWsConnect,       // head set: a WebSocket upgrade request awaiting the app's answer
    kWsMessage,       // bytes, flag = text (else binary), flag2 = JS paused reading after it
    kWsDisconnect,    // number = close code (1005 none given, 1006 connection lost), bytes = reason
  };
  explicit ToLoop(Kind k, uint64_t i = 0) : kind(k), id(i) {}
  Kind kind;
  uint64_t id = 0;
  std::unique_ptr<HttpRequestHead> head;
  std::string bytes;
  bool flag = false;
  bool flag2 = false;
  double number = 0;
};

// Loop thread → JS thread.
struct ToJs {
  enum class Kind : uint8_t {
    kStarted,        // app loaded, lifespan startup complete
    kStartFailed,    // error set
    kResponseStart,  // status, headers (also a WebSocket denial response's start)
    kResponseBody,   // bytes, flag = more_body, flag2 = the app waits for kHttpDrained
    kResumeBody,     // the app wants more request body (or WebSocket messages): resume reading
    kRequestDone,    // the app returned; flag = abort the connection (response incomplete)
    kAppError,       // error set; id = request (0 for lifespan or server-level errors)
    kLog,            // number = level (10 debug .. 50 critical), bytes = message
    kClosed,         // shutdown finished; the loop is stopping
    kLoopExited,     // the loop thread ended; error set when it ended abnormally
    kWsAccept,       // headers, bytes = subprotocol, flag = a subprotocol was chosen
    kWsSend,         // bytes, flag = text (else binary), flag2 = the app waits for kHttpDrained
    kWsClose,        // number = close code, bytes = reason (UTF-8)
  };
  explicit ToJs(Kind k, uint64_t i = 0) : kind(k), id(i) {}
  Kind kind;
  uint64_t id = 0;
  int status = 0;
  Headers headers;
  std::string bytes;
  bool flag = false;
  bool flag2 = false;
  int number = 0;
  std::unique_ptr<PythonErrorInfo> error;
};

}  // namespace node_asgi
