// The native HTTP server's JS face (see native_server.h). JS thread only.
#include "native_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "node_handler.h"

namespace node_asgi {

namespace {

int64_t IntOption(Napi::Object o, const char* name, int64_t fallback) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) return fallback;
  return v.As<Napi::Number>().Int64Value();
}

uint64_t MillisOption(Napi::Object o, const char* name, uint64_t fallback) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) return fallback;
  double seconds = v.As<Napi::Number>().DoubleValue();
  return seconds <= 0 ? 0 : static_cast<uint64_t>(seconds * 1000 + 0.5);
}

}  // namespace

Napi::Function NativeServer::Define(Napi::Env env) {
  return DefineClass(env, "NativeServer",
                     {
                         InstanceMethod<&NativeServer::Listen>("listen"),
                         InstanceMethod<&NativeServer::Adopt>("adopt"),
                         InstanceMethod<&NativeServer::Address>("address"),
                         InstanceMethod<&NativeServer::Close>("close"),
                         InstanceMethod<&NativeServer::CloseNow>("closeNow"),
                         InstanceMethod<&NativeServer::Connections>("connections"),
                         InstanceMethod<&NativeServer::InFlight>("inFlight"),
                     });
}

// Options arrive validated by lib/native_server.js (seconds for timeouts, bytes, counts).
NativeServer::NativeServer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeServer>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsObject() || !info[2].IsFunction())
    throw Napi::TypeError::New(env, "node-asgi: NativeServer(handler, options, onClosed) expected");
  NativeHandler* handler = NativeHandler::Unwrap(info[0].As<Napi::Object>());
  if (handler == nullptr || handler->router() == nullptr)
    throw Napi::Error::New(env, "node-asgi: the handler must be started before it can listen");
  handler_ = Napi::Persistent(info[0].As<Napi::Object>());
  on_closed_ = Napi::Persistent(info[2].As<Napi::Function>());
  context_ = std::make_unique<Napi::AsyncContext>(env, "node-asgi:server");
  Napi::Object o = info[1].As<Napi::Object>();
  server::ServerOptions options;
  options.root_path = o.Get("rootPath").As<Napi::String>().Utf8Value();
  Napi::Value server_header = o.Get("serverHeader");
  options.server_header = server_header.IsString() ? server_header.As<Napi::String>().Utf8Value() : "";
  options.date_header = o.Get("dateHeader").ToBoolean();
  Napi::Value defaults = o.Get("defaultHeaders");  // [name, value, name, value...]
  if (defaults.IsArray()) {
    Napi::Array list = defaults.As<Napi::Array>();
    for (uint32_t i = 0; i + 1 < list.Length(); i += 2) {
      options.default_headers.emplace_back(list.Get(i).As<Napi::String>().Utf8Value(),
                                           list.Get(i + 1).As<Napi::String>().Utf8Value());
    }
  }
  options.max_header_size = static_cast<size_t>(IntOption(o, "maxHeaderSize", 16384));
  options.max_header_count = static_cast<size_t>(IntOption(o, "maxHeaderCount", 100));
  options.max_request_body = IntOption(o, "maxRequestBodySize", -1);
  options.limit_concurrency = IntOption(o, "limitConcurrency", -1);
  options.request_high_water = IntOption(o, "requestHighWater", 64 * 1024);
  options.response_high_water = IntOption(o, "responseHighWater", 64 * 1024);
  options.timeout_headers_ms = MillisOption(o, "timeoutHeaders", 30000);
  options.timeout_keep_alive_ms = MillisOption(o, "timeoutKeepAlive", 5000);
  options.ws_max_size = static_cast<size_t>(IntOption(o, "wsMaxSize", 16 * 1024 * 1024));
  options.ws_max_queue = static_cast<size_t>(IntOption(o, "wsMaxQueue", 32));
  options.ws_ping_interval_ms = MillisOption(o, "wsPingInterval", 20000);
  options.ws_ping_timeout_ms = MillisOption(o, "wsPingTimeout", 20000);
  options.ws_per_message_deflate = o.Get("wsPerMessageDeflate").ToBoolean();
  Napi::Value access_log = o.Get("onAccessLog");
  options.access_log = access_log.IsFunction();
  if (options.access_log) on_access_log_ = Napi::Persistent(access_log.As<Napi::Function>());
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
    throw Napi::Error::New(env, "node-asgi: cannot get Node's event loop");
  bool wants_access_log = options.access_log;
  server_ = std::make_unique<server::HttpServer>(loop, handler->bridge(), handler->router(), std::move(options),
                                                 [this] { OnClosed(); });
  if (wants_access_log) server_->SetOnAccessLog([this](std::string&& lines) { OnAccessLog(std::move(lines)); });
  // A worker thread that exits with the server open: close every handle before its loop closes.
  if (napi_add_async_cleanup_hook(env, &NativeServer::OnEnvTeardown, this, &teardown_) != napi_ok) teardown_ = nullptr;
}

NativeServer::~NativeServer() {
  if (teardown_ != nullptr) napi_remove_async_cleanup_hook(teardown_);
  teardown_ = nullptr;
  if (server_ && !closed_) {
    // Collected while open (JS keeps a listening server referenced, so only at teardown): the
    // server frees itself once its connections are closed.
    server::HttpServer* orphan = server_.release();
    orphan->SetOnClosed(nullptr);
    orphan->CloseNow();
    if (orphan->connection_count() == 0) delete orphan;
    else orphan->SetOnClosed([orphan] { delete orphan; });  // its last connection's close frees it
  }
}

void NativeServer::OnEnvTeardown(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* self = static_cast<NativeServer*>(arg);
  self->tearing_down_ = true;
  if (self->closed_ || !self->server_) {
    self->teardown_ = nullptr;
    napi_remove_async_cleanup_hook(handle);
    return;
  }
  self->server_->CloseNow();  // OnClosed removes the hook once every connection is closed
}

void NativeServer::OnClosed() {
  closed_ = true;
  if (tearing_down_) {
    if (teardown_ != nullptr) {
      napi_async_cleanup_hook_handle handle = teardown_;
      teardown_ = nullptr;
      // after the close callbacks already queued (listener, check handle): a closing handle of ours
      auto* idle = new uv_idle_t;
      uv_idle_init(server_->loop(), idle);
      idle->data = handle;
      uv_close(reinterpret_cast<uv_handle_t*>(idle), [](uv_handle_t* h) {
        napi_remove_async_cleanup_hook(static_cast<napi_async_cleanup_hook_handle>(h->data));
        delete reinterpret_cast<uv_idle_t*>(h);
      });
    }
    return;
  }
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  if (!on_closed_.IsEmpty()) on_closed_.MakeCallback(Value(), {}, *context_);
}

// Called from the uv_check handle after a poll phase: JS receives the turn's lines in one call.
void NativeServer::OnAccessLog(std::string&& lines) {
  if (tearing_down_ || on_access_log_.IsEmpty()) return;
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  on_access_log_.MakeCallback(Value(), {Napi::String::New(env, lines)}, *context_);
}

// listen(host, port, backlog) → undefined; throws an Error with `code` (EADDRINUSE...).
Napi::Value NativeServer::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host = info[0].As<Napi::String>().Utf8Value();
  int port = info[1].As<Napi::Number>().Int32Value();
  int backlog = info[2].As<Napi::Number>().Int32Value();
  std::string error;
  int r = server_->Listen(host, port, backlog, &error);
  if (r != 0) {
    Napi::Error e = Napi::Error::New(env, "node-asgi: listen " + error + " " + host + ":" + std::to_string(port));
    e.Set("code", Napi::String::New(env, uv_err_name(r)));
    e.Set("errno", Napi::Number::New(env, r));
    e.Set("syscall", Napi::String::New(env, "listen"));
    e.Set("address", Napi::String::New(env, host));
    e.Set("port", Napi::Number::New(env, port));
    throw e;
  }
  return env.Undefined();
}

// adopt(fd) → undefined: serves a connected socket that JS accepted (a cluster primary's, a
// net.Server's on --uds/--fd). The server takes a duplicate, so the caller destroys its own
// socket right after. Throws an Error with `code` when the server is closing or libuv refuses it.
Napi::Value NativeServer::Adopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  int r = copy < 0 ? -errno : (server_ ? server_->Adopt(copy) : UV_ECANCELED);
  if (copy >= 0 && !server_) close(copy);
  if (r != 0) {
    Napi::Error e = Napi::Error::New(env, std::string("node-asgi: cannot serve the connection: ") + uv_err_name(r) + ": " + uv_strerror(r));
    e.Set("code", Napi::String::New(env, uv_err_name(r)));
    throw e;
  }
  return env.Undefined();
}

Napi::Value NativeServer::Address(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host, family;
  int port = 0;
  if (!server_ || !server_->Address(&host, &port, &family)) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("address", host);
  o.Set("family", family);
  o.Set("port", port);
  return o;
}

// close(idleGraceSeconds?) → undefined (see HttpServer::Close)
Napi::Value NativeServer::Close(const Napi::CallbackInfo& info) {
  uint64_t grace = info[0].IsNumber() ? static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue() * 1000) : 0;
  if (server_) server_->Close(grace);
  return info.Env().Undefined();
}

Napi::Value NativeServer::CloseNow(const Napi::CallbackInfo& info) {
  if (server_) server_->CloseNow();
  return info.Env().Undefined();
}

Napi::Value NativeServer::Connections(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), server_ ? static_cast<double>(server_->connection_count()) : 0);
}

Napi::Value NativeServer::InFlight(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), server_ ? static_cast<double>(server_->in_flight()) : 0);
}

}  // namespace node_asgi
