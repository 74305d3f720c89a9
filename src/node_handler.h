// The JS-thread half of a handler: a Napi object that turns JS calls into ToLoop messages and
// delivers ToJs messages to one JS callback in batches. JS thread only (the Bridge is the only
// thing it shares with the loop thread).
#pragma once

#include <napi.h>

#include <memory>

#include "core/bridge.h"
#include "core/loop_thread.h"
#include "server/request_router.h"

namespace node_asgi {

struct HandlerContext;
// Runs on the JS thread when the loop thread has queued messages: delivers them all in one call.
void DeliverToJs(Napi::Env env, Napi::Function callback, HandlerContext* context, void* unused);

class NativeHandler : public Napi::ObjectWrap<NativeHandler> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new NativeHandler(onEvents: (count: number, ...payloads: unknown[]) => void, meta: Float64Array,
  //                   arrangeWake: (self: NativeHandler) => void)
  // `meta` (3 × kMaxEvents doubles) receives each batch's kind/id/n triples (see js_events.h).
  // `arrangeWake(self)` must call self.wakeLoop() later in this turn of Node's event loop
  // (setImmediate): new requests queue without waking the loop thread, and the first of a turn
  // calls it.
  explicit NativeHandler(const Napi::CallbackInfo& info);
  ~NativeHandler() override;

  // For the native servers listening for this handler (src/native_server.h): the bridge to the
  // loop thread, and the router that hands them their requests' events. Null router: not started.
  std::shared_ptr<Bridge> bridge() const { return bridge_; }
  std::shared_ptr<server::RequestRouter> router() const { return loop_ && !loop_exited_ ? router_ : nullptr; }

 private:
  friend void DeliverToJs(Napi::Env, Napi::Function, HandlerContext*, void*);
  using Tsfn = Napi::TypedThreadSafeFunction<HandlerContext, void, DeliverToJs>;

  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value StartHttp(const Napi::CallbackInfo& info);
  Napi::Value Body(const Napi::CallbackInfo& info);
  Napi::Value Disconnect(const Napi::CallbackInfo& info);
  Napi::Value Drained(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value WakeLoop(const Napi::CallbackInfo& info);
  Napi::Value WsConnect(const Napi::CallbackInfo& info);
  Napi::Value WsMessage(const Napi::CallbackInfo& info);
  Napi::Value WsDisconnect(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);

  void Detach();
  // Queues a new request for the loop thread; the wakeup waits for arrangeWake's call.
  void Queue(ToLoop&& message);

  struct EnvCleanup {
    std::shared_ptr<Bridge> bridge;
    NativeHandler* handler;
  };
  static void OnEnvCleanup(void* arg);

  std::shared_ptr<Bridge> bridge_ = std::make_shared<Bridge>();
  std::shared_ptr<server::RequestRouter> router_ = std::make_shared<server::RequestRouter>();
  EnvCleanup* cleanup_ = nullptr;  // registered env cleanup hook, until it runs or is removed
  std::unique_ptr<LoopThread> loop_;
  std::unique_ptr<HandlerContext> context_;
  Napi::Reference<Napi::Float64Array> meta_;
  Napi::FunctionReference arrange_wake_;
  Tsfn tsfn_;
  bool tsfn_live_ = false;
  bool loop_exited_ = false;
};

}  // namespace node_asgi
