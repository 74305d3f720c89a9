// The Channel's per-request methods as METH_FASTCALL functions (see channel_methods.h).
#include "channel_methods.h"

#include <exception>
#include <string>

#include "channel.h"

namespace node_asgi {

namespace {

// A C++ exception as the Python exception pybind11 would have raised for it.
PyObject* RaiseCurrent() {
  try {
    throw;
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "node-asgi: unknown C++ exception in Channel");
  }
  return nullptr;
}

// Runs a method body, turning a C++ exception into the Python exception it stands for.
template <typename Body>
PyObject* Guarded(Body&& body) {
  try {
    return body();
  } catch (...) {
    return RaiseCurrent();
  }
}

void CheckArity(const char* name, Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max) {
  if (nargs >= min && nargs <= max) return;
  std::string expected = min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
  throw py::type_error(std::string("Channel.") + name + "() takes " + expected + " positional arguments (" +
                       std::to_string(nargs) + " given)");
}

Channel& Self(PyObject* self) { return *py::cast<Channel*>(py::handle(self)); }

uint64_t Id(PyObject* o) {
  unsigned long long v = PyLong_AsUnsignedLongLong(o);
  if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

int64_t Int64(PyObject* o) {
  long long v = PyLong_AsLongLong(o);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

bool Truth(PyObject* o) {
  int t = PyObject_IsTrue(o);
  if (t < 0) throw py::error_already_set();
  return t == 1;
}

PyObject* None() { Py_RETURN_NONE; }

// take()
PyObject* Take(PyObject* self, PyObject* const*, Py_ssize_t nargs) {
  return Guarded([&] {
    CheckArity("take", nargs, 0, 0);
    return Self(self).Take().release().ptr();
  });
}

// response_start(id, message, websocket=False)
PyObject* ResponseStart(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return Guarded([&] {
    CheckArity("response_start", nargs, 2, 3);
    Self(self).ResponseStart(Id(args[0]), args[1], nargs > 2 && Truth(args[2]));
    return None();
  });
}

// response_body(id, message, pending, websocket=False) -> pending bytes, or -1 when complete
PyObject* ResponseBody(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return Guarded([&] {
    CheckArity("response_body", nargs, 3, 4);
    int64_t pending = Self(self).ResponseBody(Id(args[0]), args[1], Int64(args[2]), nargs > 3 && Truth(args[3]));
    return PyLong_FromLongLong(pending);
  });
}

// ws_send(id, message, pending) -> pending bytes
PyObject* WsSend(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return Guarded([&] {
    CheckArity("ws_send", nargs, 3, 3);
    return PyLong_FromLongLong(Self(self).WsSend(Id(args[0]), args[1], Int64(args[2])));
  });
}

// resume_body(id)
PyObject* ResumeBody(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return Guarded([&] {
    CheckArity("resume_body", nargs, 1, 1);
    Self(self).ResumeBody(Id(args[0]));
    return None();
  });
}

// request_done(id, abort)
PyObject* RequestDone(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return Guarded([&] {
    CheckArity("request_done", nargs, 2, 2);
    Self(self).RequestDone(Id(args[0]), Truth(args[1]));
    return None();
  });
}

// flush()
PyObject* Flush(PyObject* self, PyObject* const*, Py_ssize_t nargs) {
  return Guarded([&] {
    CheckArity("flush", nargs, 0, 0);
    Self(self).Flush();
    return None();
  });
}

// flush_soon()
PyObject* FlushSoon(PyObject* self, PyObject* const*, Py_ssize_t nargs) {
  return Guarded([&] {
    CheckArity("flush_soon", nargs, 0, 0);
    Self(self).FlushSoon();
    return None();
  });
}

template <PyObject* (*F)(PyObject*, PyObject* const*, Py_ssize_t)>
constexpr PyCFunction Fast() {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(F));
}

// Static: method descriptors keep pointers to their PyMethodDef for the life of the type.
PyMethodDef kMethods[] = {
    {"take", Fast<Take>(), METH_FASTCALL, "take() -> list of (kind, id, ...) tuples queued by Node"},
    {"response_start", Fast<ResponseStart>(), METH_FASTCALL,
     "response_start(id, message, websocket=False): validates and queues an http.response.start"},
    {"response_body", Fast<ResponseBody>(), METH_FASTCALL,
     "response_body(id, message, pending, websocket=False) -> bytes pending, or -1 when complete"},
    {"ws_send", Fast<WsSend>(), METH_FASTCALL, "ws_send(id, message, pending) -> bytes pending"},
    {"resume_body", Fast<ResumeBody>(), METH_FASTCALL, "resume_body(id): asks Node for more request body"},
    {"request_done", Fast<RequestDone>(), METH_FASTCALL, "request_done(id, abort): the app returned"},
    {"flush", Fast<Flush>(), METH_FASTCALL, "flush(): wakes Node if messages wait for it"},
    {"flush_soon", Fast<FlushSoon>(), METH_FASTCALL, "flush_soon(): schedules flush() behind the queued callbacks"},
};

}  // namespace

void AddFastMethods(py::handle channel_class) {
  auto* type = reinterpret_cast<PyTypeObject*>(channel_class.ptr());
  for (PyMethodDef& def : kMethods) {
    PyObject* descriptor = PyDescr_NewMethod(type, &def);
    if (descriptor == nullptr) throw py::error_already_set();
    channel_class.attr(def.ml_name) = py::reinterpret_steal<py::object>(descriptor);
  }
}

}  // namespace node_asgi
