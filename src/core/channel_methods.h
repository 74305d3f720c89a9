// The Channel methods the runtime calls for every request (take, response_start, response_body,
// ws_send, resume_body, request_done, flush, flush_soon), as METH_FASTCALL method descriptors
// instead of pybind11 bindings: pybind11's general dispatcher costs ~0.3 µs a call on the loop
// thread, these a few tens of ns. Same names, positional arguments, and the exceptions pybind11
// would raise. Loop thread only; GIL held.
#pragma once

#include <pybind11/pybind11.h>

namespace node_asgi {

namespace py = pybind11;

// Installs the methods on the pybind11 class `_node_asgi.Channel`.
void AddFastMethods(py::handle channel_class);

}  // namespace node_asgi
