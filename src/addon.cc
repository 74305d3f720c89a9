// The addon's exports: only registration lives here.
#include <napi.h>

#include "node_handler.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeHandler", node_asgi::NativeHandler::Define(env));
  return exports;
}

NODE_API_MODULE(node_asgi, Init)
