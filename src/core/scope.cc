// ASGI HTTP scope building (see scope.h).
#include "scope.h"

#include "conversions.h"

namespace node_asgi {

ScopeConstants::ScopeConstants()
    : type("type"),
      asgi("asgi"),
      http_version("http_version"),
      method("method"),
      scheme("scheme"),
      path("path"),
      raw_path("raw_path"),
      query_string("query_string"),
      root_path("root_path"),
      headers("headers"),
      client("client"),
      server("server"),
      state("state"),
      extensions("extensions"),
      subprotocols("subprotocols"),
      http("http"),
      websocket("websocket") {
  asgi_version["version"] = "3.0";
  asgi_version["spec_version"] = "2.4";
  for (const py::str* key : {&type, &asgi, &http_version, &scheme, &path, &raw_path, &query_string, &root_path,
                             &headers, &client, &server}) {
    http_template[*key] = py::none();
    websocket_template[*key] = py::none();
  }
  http_template[method] = py::none();
  http_template[extensions] = py::none();
  websocket_template[subprotocols] = py::none();
  websocket_template[extensions] = py::none();
  for (const char* v : {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "1.1", "1.0", "2", "http", "https",
                        "ws", "wss"})
    common_values.emplace_back(v, py::str(v));
}

py::str ScopeConstants::Text(const std::string& value) const {
  for (const auto& [text, str] : common_values)
    if (text == value) return str;
  return py::str(value);
}

// scope[key] = value (no pybind11 accessor, no generic setitem).
static void Set(const py::dict& scope, const py::str& key, py::handle value) {
  if (PyDict_SetItem(scope.ptr(), key.ptr(), value.ptr()) != 0) throw py::error_already_set();
}

py::str DecodePath(std::string_view raw_path) {
  std::string bytes = PercentDecode(raw_path);
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), "replace");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

// A header name as lower-cased bytes, written straight into the new bytes object.
static PyObject* LowerBytes(const std::string& name) {
  PyObject* bytes = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(name.size()));
  if (bytes == nullptr) return nullptr;
  char* out = PyBytes_AS_STRING(bytes);
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return bytes;
}

py::list HeadersToPython(const Headers& headers) {
  py::list list(headers.size());
  size_t i = 0;
  for (const auto& [name, value] : headers) {
    PyObject* pair = PyTuple_New(2);
    if (pair == nullptr) throw py::error_already_set();
    PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i++), pair);  // the list owns it from here
    PyObject* lower = LowerBytes(name);
    if (lower == nullptr) throw py::error_already_set();
    PyTuple_SET_ITEM(pair, 0, lower);
    PyObject* raw = PyBytes_FromStringAndSize(value.data(), static_cast<Py_ssize_t>(value.size()));
    if (raw == nullptr) throw py::error_already_set();
    PyTuple_SET_ITEM(pair, 1, raw);
  }
  return list;
}

static py::object Address(const std::string& host, int port) {
  if (host.empty()) return py::none();
  return py::make_tuple(py::str(host), port);
}

// The keys HTTP and WebSocket scopes share.
static py::dict ConnectionScope(const HttpRequestHead& head, const ScopeConstants& k, const ScopeOptions& options,
                                const py::str& type, const py::dict& scope_template) {
  std::string_view path, query;
  SplitTarget(head.target, &path, &query);
  PyObject* copy = PyDict_Copy(scope_template.ptr());
  if (copy == nullptr) throw py::error_already_set();
  py::dict scope = py::reinterpret_steal<py::dict>(copy);
  Set(scope, k.type, type);
  PyObject* asgi = PyDict_Copy(k.asgi_version.ptr());
  if (asgi == nullptr) throw py::error_already_set();
  Set(scope, k.asgi, py::reinterpret_steal<py::object>(asgi));
  Set(scope, k.http_version, k.Text(head.http_version));
  Set(scope, k.scheme, k.Text(head.scheme));
  py::str decoded = DecodePath(path);
  if (options.path_includes_root_path && !head.root_path.empty()) {
    // uvicorn >= 0.26: both path and raw_path carry the root_path prefix
    Set(scope, k.path, py::str(head.root_path) + decoded);
    std::string raw = head.root_path;
    raw.append(path.data(), path.size());
    Set(scope, k.raw_path, py::bytes(raw));
  } else {
    Set(scope, k.path, decoded);
    Set(scope, k.raw_path, py::bytes(path.data(), path.size()));
  }
  Set(scope, k.query_string, py::bytes(query.data(), query.size()));
  Set(scope, k.root_path, py::str(head.root_path));
  Set(scope, k.headers, HeadersToPython(head.headers));
  Set(scope, k.client, Address(head.client_host, head.client_port));
  Set(scope, k.server, Address(head.server_host, head.server_port));
  return scope;
}

py::dict BuildHttpScope(const HttpRequestHead& head, const ScopeConstants& k, const ScopeOptions& options) {
  py::dict scope = ConnectionScope(head, k, options, k.http, k.http_template);
  Set(scope, k.method, k.Text(head.method));
  Set(scope, k.extensions, py::dict());
  return scope;
}

py::list OfferedSubprotocols(const Headers& headers) {
  py::list offered;
  for (const auto& [name, value] : headers) {
    if (LowerAscii(name) != "sec-websocket-protocol") continue;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      size_t b = start, e = comma;
      while (b < e && (value[b] == ' ' || value[b] == '\t')) ++b;
      while (e > b && (value[e - 1] == ' ' || value[e - 1] == '\t')) --e;
      if (e > b) offered.append(py::str(value.substr(b, e - b)));
      start = comma + 1;
    }
  }
  return offered;
}

py::dict BuildWebSocketScope(const HttpRequestHead& head, const ScopeConstants& k, const ScopeOptions& options) {
  py::dict scope = ConnectionScope(head, k, options, k.websocket, k.websocket_template);
  Set(scope, k.subprotocols, OfferedSubprotocols(head.headers));
  py::dict extensions;
  extensions["websocket.http.response"] = py::dict();
  Set(scope, k.extensions, extensions);
  return scope;
}

}  // namespace node_asgi
