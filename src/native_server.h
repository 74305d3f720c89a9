// The JS face of the native HTTP server (src/server/): a Napi object that creates an HttpServer
// on Node's event loop for one NativeHandler, listens, reports its address and closes it. JS
// thread only; per request it calls no JS (the handler's router delivers responses in C++).
#pragma once

#include <napi.h>

#include <memory>

#include "server/http_server.h"

namespace node_asgi {

class NativeServer : public Napi::ObjectWrap<NativeServer> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new NativeServer(handler: NativeHandler, options: object, onClosed: () => void)
  explicit NativeServer(const Napi::CallbackInfo& info);
  ~NativeServer() override;

 private:
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Adopt(const Napi::CallbackInfo& info);
  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value CloseNow(const Napi::CallbackInfo& info);
  Napi::Value Connections(const Napi::CallbackInfo& info);
  Napi::Value InFlight(const Napi::CallbackInfo& info);

  void OnClosed();
  void OnAccessLog(std::string&& lines);
  static void OnEnvTeardown(napi_async_cleanup_hook_handle handle, void* arg);

  std::unique_ptr<server::HttpServer> server_;
  Napi::ObjectReference handler_;  // keeps the NativeHandler (its bridge and router) alive
  Napi::FunctionReference on_closed_;
  Napi::FunctionReference on_access_log_;
  std::unique_ptr<Napi::AsyncContext> context_;
  napi_async_cleanup_hook_handle teardown_ = nullptr;
  bool closed_ = false;
  bool tearing_down_ = false;
};

}  // namespace node_asgi
