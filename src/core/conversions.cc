// Header, target and ASGI message conversions (see conversions.h).
#include "conversions.h"

#include <strings.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace node_asgi {

void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query) {
  // A fragment never reaches a server, but a hand-made target may carry one: drop it first.
  target = target.substr(0, target.find('#'));
  if (!target.empty() && target[0] != '/' && target != "*") {
    // absolute-form: skip "scheme://authority"
    size_t scheme_end = target.find("://");
    if (scheme_end != std::string_view::npos) {
      size_t path_start = target.find_first_of("/?", scheme_end + 3);
      target = path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
      if (target[0] == '?') {
        *path = "/";
        *query = target.substr(1);
        return;
      }
    }
  }
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    *path = target;
    *query = std::string_view();
  } else {
    *path = target.substr(0, q);
    *query = target.substr(q + 1);
  }
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

static bool IsTokenChar(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!IsTokenChar(c)) return false;
  return true;
}

bool IsHeaderValue(std::string_view value) {
  for (unsigned char c : value)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool CopyBytesLike(py::handle value, std::string* out) {
  PyObject* o = value.ptr();
  if (PyBytes_Check(o)) {
    out->assign(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o));
    return true;
  }
  if (PyByteArray_Check(o)) {
    out->assign(PyByteArray_AS_STRING(o), PyByteArray_GET_SIZE(o));
    return true;
  }
  if (PyMemoryView_Check(o)) {
    Py_buffer view;
    if (PyObject_GetBuffer(o, &view, PyBUF_CONTIG_RO) != 0) throw py::error_already_set();
    out->assign(static_cast<const char*>(view.buf), view.len);
    PyBuffer_Release(&view);
    return true;
  }
  return false;
}

static std::string TypeName(py::handle o) { return Py_TYPE(o.ptr())->tp_name; }

// One [name, value] pair of a message's headers, validated and appended to `out`.
static void ParseHeader(py::handle pair, const char* message_type, Headers* out) {
  PyObject* p = pair.ptr();
  bool is_pair = (PyTuple_Check(p) && PyTuple_GET_SIZE(p) == 2) || (PyList_Check(p) && PyList_GET_SIZE(p) == 2);
  if (!is_pair)
    throw py::type_error(std::string("ASGI '") + message_type +
                         "' message header must be a [name, value] pair of bytes, got " + TypeName(pair));
  py::handle name = PySequence_Fast_GET_ITEM(p, 0);
  py::handle value = PySequence_Fast_GET_ITEM(p, 1);
  std::pair<std::string, std::string> entry;
  if (!CopyBytesLike(name, &entry.first))
    throw py::type_error(std::string("ASGI '") + message_type + "' message header name must be bytes, got " +
                         TypeName(name));
  if (!CopyBytesLike(value, &entry.second))
    throw py::type_error(std::string("ASGI '") + message_type + "' message header value must be bytes, got " +
                         TypeName(value));
  if (!IsHeaderName(entry.first)) throw std::runtime_error("Invalid HTTP header name.");
  if (!IsHeaderValue(entry.second)) throw std::runtime_error("Invalid HTTP header value.");
  out->push_back(std::move(entry));
}

void ParseHeaders(py::handle headers, const char* message_type, Headers* out) {
  PyObject* h = headers.ptr();
  if (PyList_Check(h) || PyTuple_Check(h)) {  // the usual shapes, indexed without an iterator
    Py_ssize_t n = PySequence_Fast_GET_SIZE(h);
    out->reserve(out->size() + static_cast<size_t>(n));
    // A list may change size if an item's conversion runs Python code (a memoryview of an
    // exporter): re-check the size on every step.
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(h); ++i)
      ParseHeader(py::reinterpret_borrow<py::object>(PySequence_Fast_GET_ITEM(h, i)), message_type, out);
    return;
  }
  if (PyUnicode_Check(h) || PyBytes_Check(h) || PyDict_Check(h))
    throw py::type_error(std::string("ASGI '") + message_type +
                         "' message 'headers' must be an iterable of [name, value] byte pairs, got " +
                         TypeName(headers));
  py::iterator it;
  try {
    it = py::iter(headers);
  } catch (py::error_already_set&) {
    throw py::type_error(std::string("ASGI '") + message_type +
                         "' message 'headers' must be an iterable of [name, value] byte pairs, got " +
                         TypeName(headers));
  }
  for (; it != py::iterator::sentinel(); ++it) ParseHeader(*it, message_type, out);
}

// The keys of ASGI messages, interned once and kept: node-asgi runs one interpreter per process
// and never finalizes it. A lookup by interned key skips making and hashing a str per call, which
// PyDict_GetItemString does.
enum class Key { kStatus, kHeaders, kBody, kMoreBody, kSubprotocol, kBytes, kText, kCode, kReason, kCount };

static PyObject* Field(py::handle message, Key key) {
  static PyObject* const keys[] = {
      PyUnicode_InternFromString("status"),      PyUnicode_InternFromString("headers"),
      PyUnicode_InternFromString("body"),        PyUnicode_InternFromString("more_body"),
      PyUnicode_InternFromString("subprotocol"), PyUnicode_InternFromString("bytes"),
      PyUnicode_InternFromString("text"),        PyUnicode_InternFromString("code"),
      PyUnicode_InternFromString("reason"),
  };
  static_assert(sizeof keys / sizeof keys[0] == static_cast<size_t>(Key::kCount), "one name per Key");
  PyObject* k = keys[static_cast<int>(key)];
  if (k == nullptr) throw std::runtime_error("node-asgi: cannot intern ASGI message keys");
  PyObject* value = PyDict_GetItemWithError(message.ptr(), k);  // borrowed
  if (value == nullptr && PyErr_Occurred()) throw py::error_already_set();
  return value;
}

static void RequireDict(py::handle message, const char* message_type) {
  if (!PyDict_Check(message.ptr()))
    throw py::type_error(std::string("ASGI '") + message_type + "' message must be a dict, got " +
                         TypeName(message));
}

// An int field of a message (bools refused), for `status` and `code`. Errors start with
// "ASGI '<message_type>' message '<key>'".
static long IntField(PyObject* value, const char* message_type, const char* key) {
  if (!PyLong_Check(value) || PyBool_Check(value))
    throw py::type_error(std::string("ASGI '") + message_type + "' message '" + key + "' must be an int, got " +
                         TypeName(value));
  long n = PyLong_AsLong(value);
  if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
  return n;
}

void ParseResponseStart(py::handle message, int* status, Headers* headers, const char* message_type) {
  RequireDict(message, message_type);
  PyObject* status_obj = Field(message, Key::kStatus);
  if (status_obj == nullptr)
    throw py::key_error(std::string("ASGI '") + message_type + "' message is missing 'status'");
  long value = IntField(status_obj, message_type, "status");
  if (value < 100 || value > 999)
    throw py::value_error(std::string("ASGI '") + message_type +
                          "' message 'status' must be between 100 and 999, got " + std::to_string(value));
  *status = static_cast<int>(value);
  PyObject* headers_obj = Field(message, Key::kHeaders);
  if (headers_obj != nullptr && headers_obj != Py_None) ParseHeaders(headers_obj, message_type, headers);
  // A Content-Length the server cannot frame by is the app's error (uvicorn: int() raises).
  for (const auto& [name, value] : *headers) {
    if (name.size() != 14 || strncasecmp(name.data(), "content-length", 14) != 0) continue;
    bool digits = !value.empty() && value.size() <= 18;
    for (char c : value) digits = digits && c >= '0' && c <= '9';
    if (!digits)
      throw py::value_error(std::string("ASGI '") + message_type + "' message has an invalid content-length header: '" +
                            value + "'");
  }
}

bool ParseResponseBody(py::handle message, std::string* body, const char* message_type) {
  RequireDict(message, message_type);
  PyObject* body_obj = Field(message, Key::kBody);
  if (body_obj != nullptr && !CopyBytesLike(body_obj, body))
    throw py::type_error(std::string("ASGI '") + message_type + "' message 'body' must be bytes, got " +
                         TypeName(body_obj));
  PyObject* more = Field(message, Key::kMoreBody);
  if (more == nullptr || more == Py_False) return false;
  if (more == Py_True) return true;
  int truth = PyObject_IsTrue(more);
  if (truth < 0) throw py::error_already_set();
  return truth == 1;
}

static void CopyUtf8(PyObject* text, std::string* out) {
  Py_ssize_t size = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(text, &size);
  if (utf8 == nullptr) throw py::error_already_set();
  out->assign(utf8, static_cast<size_t>(size));
}

bool ParseWebSocketAccept(py::handle message, std::string* subprotocol, Headers* headers) {
  RequireDict(message, "websocket.accept");
  PyObject* headers_obj = Field(message, Key::kHeaders);
  if (headers_obj != nullptr && headers_obj != Py_None) ParseHeaders(headers_obj, "websocket.accept", headers);
  PyObject* sub = Field(message, Key::kSubprotocol);
  if (sub == nullptr || sub == Py_None) return false;
  if (!PyUnicode_Check(sub))
    throw py::type_error("ASGI 'websocket.accept' message 'subprotocol' must be a str or None, got " + TypeName(sub));
  CopyUtf8(sub, subprotocol);
  if (!IsHeaderName(*subprotocol))
    throw py::value_error("ASGI 'websocket.accept' message 'subprotocol' must be a token, got '" + *subprotocol + "'");
  return true;
}

bool ParseWebSocketSend(py::handle message, std::string* payload) {
  RequireDict(message, "websocket.send");
  PyObject* bytes = Field(message, Key::kBytes);
  PyObject* text = Field(message, Key::kText);
  bool has_bytes = bytes != nullptr && bytes != Py_None;
  bool has_text = text != nullptr && text != Py_None;
  if (has_bytes == has_text)
    throw py::value_error(std::string("ASGI 'websocket.send' message must have exactly one of 'bytes' and 'text', got ") +
                          (has_bytes ? "both" : "neither"));
  if (has_text) {
    if (!PyUnicode_Check(text))
      throw py::type_error("ASGI 'websocket.send' message 'text' must be a str, got " + TypeName(text));
    CopyUtf8(text, payload);
    return true;
  }
  if (!CopyBytesLike(bytes, payload))
    throw py::type_error("ASGI 'websocket.send' message 'bytes' must be bytes, got " + TypeName(bytes));
  return false;
}

void ParseWebSocketClose(py::handle message, int* code, std::string* reason) {
  RequireDict(message, "websocket.close");
  *code = 1000;
  PyObject* code_obj = Field(message, Key::kCode);
  if (code_obj != nullptr && code_obj != Py_None) {
    long value = IntField(code_obj, "websocket.close", "code");
    bool valid = (value >= 1000 && value <= 1014 && value != 1004 && value != 1005 && value != 1006) ||
                 (value >= 3000 && value <= 4999);
    if (!valid)
      throw py::value_error("ASGI 'websocket.close' message 'code' must be a valid WebSocket close code, got " +
                            std::to_string(value));
    *code = static_cast<int>(value);
  }
  PyObject* reason_obj = Field(message, Key::kReason);
  if (reason_obj != nullptr && reason_obj != Py_None) {
    if (!PyUnicode_Check(reason_obj))
      throw py::type_error("ASGI 'websocket.close' message 'reason' must be a str, got " + TypeName(reason_obj));
    CopyUtf8(reason_obj, reason);
    if (reason->size() > 123)
      throw py::value_error("ASGI 'websocket.close' message 'reason' must be at most 123 bytes in UTF-8, got " +
                            std::to_string(reason->size()));
  }
}

}  // namespace node_asgi
