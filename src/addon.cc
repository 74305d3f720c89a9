// The addon's exports: only registration lives here.
#include <napi.h>

#include "js_events.h"
#include "native_server.h"
#include "node_handler.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeHandler", node_asgi::NativeHandler::Define(env));
  exports.Set("NativeServer", node_asgi::NativeServer::Define(env));
  // events per callback call: JS sizes the Float64Array it hands NativeHandler from this
  exports.Set("eventBatch", Napi::Number::New(env, static_cast<double>(node_asgi::kMaxEvents)));
  return exports;
}

NODE_API_MODULE(node_asgi, Init)
