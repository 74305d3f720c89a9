// Delivers the loop thread's ToJs messages to the handler's JS callback. JS thread only.
//
// Each event is three numbers in a Float64Array shared with JS (`meta`: kind, id, n) and zero,
// one or two payload values (strings, Buffers, error objects) passed as the callback's arguments:
// callback(count, ...payloads). Writing numbers into memory and handing payloads over as arguments
// costs no N-API call per number or array slot, which a flat JS array of events did (~40 calls
// per HTTP response). What `n` and the payloads are, per kind, is listed in lib/native.js.
//
// Raw N-API calls that fail quietly: while a worker thread's environment is torn down they fail,
// and a C++ exception there would abort the whole process.
#pragma once

#include <node_api.h>

#include <vector>

#include "core/messages.h"

namespace node_asgi {

// Events per callback call; longer batches take several calls. `meta` holds 3 × kMaxEvents doubles.
constexpr size_t kMaxEvents = 1024;

// Calls `callback` once per kMaxEvents messages. Stops early, returning false, when an N-API call
// failed (the environment is going away) or the callback threw (the exception stays pending and
// Node reports it). Moves bodies out of `messages`.
bool DeliverEvents(napi_env env, napi_value callback, double* meta, std::vector<ToJs>& messages);

}  // namespace node_asgi
