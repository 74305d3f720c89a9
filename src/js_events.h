// Turns the loop thread's ToJs messages into the flat array the handler's JS callback takes
// (four slots per event: kind, id, a, b). JS thread only. Raw N-API calls that fail quietly: while
// a worker thread's environment is torn down they fail, and a C++ exception there would abort the
// whole process.
#pragma once

#include <node_api.h>

#include <vector>

#include "core/messages.h"

namespace node_asgi {

// The events array, or nullptr when an N-API call failed (the environment is going away).
// Sets *loop_exited when the batch holds kLoopExited. Moves bodies out of `messages`.
napi_value EventsArray(napi_env env, std::vector<ToJs>& messages, bool* loop_exited);

}  // namespace node_asgi
