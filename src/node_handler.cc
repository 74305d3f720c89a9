// JS-facing handler object (see node_handler.h). JS thread only.
#include "node_handler.h"

#include "core/python_runtime.h"
#include "js_events.h"

namespace node_asgi {

struct HandlerContext {
  std::shared_ptr<Bridge> bridge;
  NativeHandler* handler;  // null once the JS object is gone
};

namespace {

// A JS string's latin-1 bytes (how Node decodes raw header bytes). Most fit the stack buffer, so
// one N-API call usually suffices.
std::string Latin1(Napi::Value value) {
  napi_env env = value.Env();
  char stack[256];
  size_t length = 0;
  if (napi_get_value_string_latin1(env, value, stack, sizeof stack, &length) != napi_ok)
    throw Napi::TypeError::New(env, "node-asgi: expected a string");
  if (length + 1 < sizeof stack) return std::string(stack, length);
  napi_get_value_string_latin1(env, value, nullptr, 0, &length);
  std::string out(length, '\0');
  napi_get_value_string_latin1(env, value, out.data(), length + 1, &length);
  return out;
}

std::string Utf8(Napi::Value value) { return value.As<Napi::String>().Utf8Value(); }

uint64_t Id(const Napi::CallbackInfo& info) { return static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()); }

}  // namespace

Napi::Function NativeHandler::Define(Napi::Env env) {
  return DefineClass(env, "NativeHandler",
                     {
                         InstanceMethod<&NativeHandler::Start>("start"),
                         InstanceMethod<&NativeHandler::StartHttp>("startHttp"),
                         InstanceMethod<&NativeHandler::Body>("body"),
                         InstanceMethod<&NativeHandler::Disconnect>("disconnect"),
                         InstanceMethod<&NativeHandler::Drained>("drained"),
                         InstanceMethod<&NativeHandler::Shutdown>("shutdown"),
                         InstanceMethod<&NativeHandler::WakeLoop>("wakeLoop"),
                         InstanceMethod<&NativeHandler::WsConnect>("wsConnect"),
                         InstanceMethod<&NativeHandler::WsMessage>("wsMessage"),
                         InstanceMethod<&NativeHandler::WsDisconnect>("wsDisconnect"),
                         InstanceMethod<&NativeHandler::Ref>("ref"),
                         InstanceMethod<&NativeHandler::Unref>("unref"),
                     });
}

NativeHandler::NativeHandler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeHandler>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::Float64Array>().ElementLength() < 3 * kMaxEvents || !info[2].IsFunction())
    throw Napi::TypeError::New(env, "node-asgi: NativeHandler(onEvents, meta: Float64Array(3 * eventBatch), arrangeWake) expected");
  meta_ = Napi::Persistent(info[1].As<Napi::Float64Array>());
  arrange_wake_ = Napi::Persistent(info[2].As<Napi::Function>());
  context_ = std::make_unique<HandlerContext>(HandlerContext{bridge_, this});
  tsfn_ = Tsfn::New(env, info[0].As<Napi::Function>(), "node-asgi", 0, 1, context_.get());
  tsfn_.Unref(env);
  tsfn_live_ = true;
  Tsfn tsfn = tsfn_;
  bridge_->SetJsWaker([tsfn]() mutable { tsfn.NonBlockingCall(); });
  // If the environment goes away first (a worker exits), stop waking it. Raw N-API: the hook is
  // removed when the handler goes first, and must not be touched after it ran.
  cleanup_ = new EnvCleanup{bridge_, this};
  if (napi_add_env_cleanup_hook(env, &NativeHandler::OnEnvCleanup, cleanup_) != napi_ok) {
    delete cleanup_;
    cleanup_ = nullptr;
  }
}

NativeHandler::~NativeHandler() { Detach(); }

void NativeHandler::OnEnvCleanup(void* arg) {
  auto* cleanup = static_cast<EnvCleanup*>(arg);
  cleanup->bridge->SetJsWaker(nullptr);
  NativeHandler* handler = cleanup->handler;
  handler->cleanup_ = nullptr;
  delete cleanup;
  // The thread-safe function is finalized by the environment's teardown after this hook (it was
  // created first), and the handler may be collected after that: release it while it is valid.
  if (handler->tsfn_live_) {
    handler->tsfn_live_ = false;
    handler->tsfn_.Release();
  }
}

// Stops talking to JS: the loop thread may still be running (it holds its own references) and
// is told to shut down at once; its later messages are dropped.
void NativeHandler::Detach() {
  if (cleanup_ != nullptr) {  // the hook holds the bridge (and its eventfd): let them go
    napi_remove_env_cleanup_hook(Env(), &NativeHandler::OnEnvCleanup, cleanup_);
    delete cleanup_;
    cleanup_ = nullptr;
  }
  if (context_) context_->handler = nullptr;
  bridge_->SetJsWaker(nullptr);
  if (loop_ && !loop_exited_) bridge_->PushToLoop(ToLoop(ToLoop::Kind::kShutdown));
  if (tsfn_live_) {
    tsfn_live_ = false;
    tsfn_.Release();
  }
}

// start(options): starts Python (once per process) and this handler's loop thread. The outcome
// arrives later as a kStarted or kStartFailed event.
Napi::Value NativeHandler::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  if (loop_) throw Napi::Error::New(env, "node-asgi: handler already started");
  InterpreterOptions interpreter{Utf8(o.Get("executable")), Utf8(o.Get("virtualenv"))};
  LoopConfig config;
  config.runtime_path = Utf8(o.Get("runtimePath"));
  config.app = Utf8(o.Get("app"));
  config.app_dir = Utf8(o.Get("appDir"));
  config.factory = o.Get("factory").ToBoolean();
  config.lifespan = Utf8(o.Get("lifespan"));
  config.loop = Utf8(o.Get("loop"));
  config.extra = Utf8(o.Get("extraSettings"));
  config.channel.scope.path_includes_root_path = o.Get("pathIncludesRootPath").ToBoolean();
  config.channel.response_high_water = o.Get("responseHighWater").As<Napi::Number>().Int64Value();
  try {
    EnsureInterpreter(interpreter);
    if (config.loop == "auto") {
      // uvicorn's `--loop auto`: uvloop when it imports, else asyncio
      try {
        ImportUvloopOnMainThread();
        config.loop = "uvloop";
      } catch (const std::exception&) {
        config.loop = "asyncio";
      }
    } else if (config.loop == "uvloop") {
      ImportUvloopOnMainThread();
    }
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  loop_ = std::make_unique<LoopThread>(bridge_, std::move(config));
  loop_->Start();
  return env.Undefined();
}

// The request head both startHttp() and wsConnect() receive as arguments 1..10:
// method, scheme, httpVersion, target, rootPath, rawHeaders, clientHost, clientPort, serverHost, serverPort
static std::unique_ptr<HttpRequestHead> ReadHead(const Napi::CallbackInfo& info) {
  auto head = std::make_unique<HttpRequestHead>();
  head->method = Latin1(info[1]);
  head->scheme = Latin1(info[2]);
  head->http_version = Latin1(info[3]);
  head->target = Latin1(info[4]);
  head->root_path = Utf8(info[5]);
  Napi::Array raw = info[6].As<Napi::Array>();
  uint32_t n = raw.Length();
  head->headers.reserve(n / 2);
  for (uint32_t i = 0; i + 1 < n; i += 2) head->headers.emplace_back(Latin1(raw.Get(i)), Latin1(raw.Get(i + 1)));
  if (info[7].IsString()) {
    head->client_host = Latin1(info[7]);
    head->client_port = info[8].As<Napi::Number>().Int32Value();
  }
  if (info[9].IsString()) {
    head->server_host = Latin1(info[9]);
    head->server_port = info[10].As<Napi::Number>().Int32Value();
  }
  return head;
}

// startHttp(id, ...head, bodyComplete)
Napi::Value NativeHandler::StartHttp(const Napi::CallbackInfo& info) {
  ToLoop m(ToLoop::Kind::kHttpStart, Id(info));
  m.head = ReadHead(info);
  m.flag = info[11].ToBoolean();
  Queue(std::move(m));
  return info.Env().Undefined();
}

// wsConnect(id, ...head)
Napi::Value NativeHandler::WsConnect(const Napi::CallbackInfo& info) {
  ToLoop m(ToLoop::Kind::kWsConnect, Id(info));
  m.head = ReadHead(info);
  bridge_->PushToLoop(std::move(m));
  return info.Env().Undefined();
}

// wsMessage(id, data: Buffer, isText, paused)
Napi::Value NativeHandler::WsMessage(const Napi::CallbackInfo& info) {
  ToLoop m(ToLoop::Kind::kWsMessage, Id(info));
  auto data = info[1].As<Napi::Buffer<char>>();
  m.bytes.assign(data.Data(), data.Length());
  m.flag = info[2].ToBoolean();
  m.flag2 = info[3].ToBoolean();
  bridge_->PushToLoop(std::move(m));
  return info.Env().Undefined();
}

// wsDisconnect(id, code, reason: string)
Napi::Value NativeHandler::WsDisconnect(const Napi::CallbackInfo& info) {
  ToLoop m(ToLoop::Kind::kWsDisconnect, Id(info));
  m.number = info[1].As<Napi::Number>().Int32Value();
  m.bytes = Utf8(info[2]);
  bridge_->PushToLoop(std::move(m));
  return info.Env().Undefined();
}

// body(id, chunk: Buffer, moreBody, paused)
Napi::Value NativeHandler::Body(const Napi::CallbackInfo& info) {
  ToLoop m(ToLoop::Kind::kHttpBody, Id(info));
  if (info[1].IsBuffer()) {
    auto chunk = info[1].As<Napi::Buffer<char>>();
    m.bytes.assign(chunk.Data(), chunk.Length());
  }
  m.flag = info[2].ToBoolean();
  m.flag2 = info[3].ToBoolean();
  bridge_->PushToLoop(std::move(m));
  return info.Env().Undefined();
}

Napi::Value NativeHandler::Disconnect(const Napi::CallbackInfo& info) {
  bridge_->PushToLoop(ToLoop(ToLoop::Kind::kHttpDisconnect, Id(info)));
  return info.Env().Undefined();
}

Napi::Value NativeHandler::Drained(const Napi::CallbackInfo& info) {
  bridge_->PushToLoop(ToLoop(ToLoop::Kind::kHttpDrained, Id(info)));
  return info.Env().Undefined();
}

// New requests come many per turn of Node's event loop (one per socket read under load), each a
// little work for the loop thread: one wakeup for all of them, from the setImmediate that
// arrangeWake schedules (Bridge::QueueForLoop), or as soon as a batch is full. Everything else
// (bodies, WebSocket messages, acknowledgements, shutdown) flows under backpressure, where a late
// wakeup costs more than it saves: those use PushToLoop and wake the loop at once.
void NativeHandler::Queue(ToLoop&& message) {
  if (!bridge_->QueueForLoop(std::move(message))) return;
  // Raw N-API, so that a failed call (while a worker is being terminated, JS cannot run) is a
  // status to act on rather than an exception: whenever the wakeup cannot be arranged, the loop
  // is woken now instead, so that no request waits for nothing.
  napi_env env = Env();
  napi_value arrange = nullptr;
  napi_value self = Value();
  napi_value ignored = nullptr;
  if (napi_get_reference_value(env, arrange_wake_, &arrange) != napi_ok || arrange == nullptr || self == nullptr ||
      napi_call_function(env, self, arrange, 1, &self, &ignored) != napi_ok)
    bridge_->WakeLoop();
}

// wakeLoop(): the wakeup arranged by the first Queue() of a turn.
Napi::Value NativeHandler::WakeLoop(const Napi::CallbackInfo& info) {
  bridge_->WakeLoop();
  return info.Env().Undefined();
}

// shutdown(timeoutSeconds | -1)
Napi::Value NativeHandler::Shutdown(const Napi::CallbackInfo& info) {
  ToLoop m(ToLoop::Kind::kShutdown);
  m.number = info[0].As<Napi::Number>().DoubleValue();
  bridge_->PushToLoop(std::move(m));
  return info.Env().Undefined();
}

// ref()/unref(): whether pending work keeps Node's event loop alive (JS refs while requests are
// in flight or the handler is starting/closing).
Napi::Value NativeHandler::Ref(const Napi::CallbackInfo& info) {
  if (tsfn_live_) tsfn_.Ref(info.Env());
  return info.Env().Undefined();
}

Napi::Value NativeHandler::Unref(const Napi::CallbackInfo& info) {
  if (tsfn_live_) tsfn_.Unref(info.Env());
  return info.Env().Undefined();
}

// Events reach JS as kind/id/n triples in `meta` plus payload arguments (see js_events.h).
void DeliverToJs(Napi::Env env, Napi::Function callback, HandlerContext* context, void*) {
  if (env == nullptr || context == nullptr) return;
  std::vector<ToJs> messages = context->bridge->TakeForJs();
  NativeHandler* handler = context->handler;
  if (handler == nullptr || messages.empty()) return;
  bool exited = false;
  for (const ToJs& m : messages) exited = exited || m.kind == ToJs::Kind::kLoopExited;
  if (exited) {
    handler->loop_exited_ = true;
    handler->loop_->Join();  // the thread has posted its last message and is ending
  }
  // The native servers' requests are answered in C++; JS gets the rest (and their app errors).
  handler->router_->Route(messages);
  if (exited) handler->router_->LoopGone();
  if (messages.empty()) return;
  napi_value meta = nullptr;
  void* data = nullptr;
  if (napi_get_reference_value(env, handler->meta_, &meta) == napi_ok && meta != nullptr &&
      napi_get_typedarray_info(env, meta, nullptr, nullptr, &data, nullptr, nullptr) == napi_ok) {
    DeliverEvents(env, callback, static_cast<double*>(data), messages);
  }
  if (exited && context->handler == handler) handler->Detach();  // nothing more will come
}

}  // namespace node_asgi
