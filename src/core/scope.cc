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
}

py::str DecodePath(std::string_view raw_path) {
  std::string bytes = PercentDecode(raw_path);
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), "replace");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

py::list HeadersToPython(const Headers& headers) {
  py::list list(headers.size());
  size_t i = 0;
  for (const auto& [name, value] : headers) {
    std::string lower = LowerAscii(name);
    PyObject* pair = PyTuple_New(2);
    if (pair == nullptr) throw py::error_already_set();
    PyTuple_SET_ITEM(pair, 0, PyBytes_FromStringAndSize(lower.data(), static_cast<Py_ssize_t>(lower.size())));
    PyTuple_SET_ITEM(pair, 1, PyBytes_FromStringAndSize(value.data(), static_cast<Py_ssize_t>(value.size())));
    PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i++), pair);
  }
  return list;
}

static py::object Address(const std::string& host, int port) {
  if (host.empty()) return py::none();
  return py::make_tuple(py::str(host), port);
}

// The keys HTTP and WebSocket scopes share.
static py::dict ConnectionScope(const HttpRequestHead& head, const ScopeConstants& k, const ScopeOptions& options,
                                const py::str& type) {
  std::string_view path, query;
  SplitTarget(head.target, &path, &query);
  py::dict scope;
  scope[k.type] = type;
  scope[k.asgi] = k.asgi_version.attr("copy")();
  scope[k.http_version] = py::str(head.http_version);
  scope[k.scheme] = py::str(head.scheme);
  py::str decoded = DecodePath(path);
  if (options.path_includes_root_path && !head.root_path.empty()) {
    // uvicorn >= 0.26: both path and raw_path carry the root_path prefix
    scope[k.path] = py::str(head.root_path) + decoded;
    std::string raw = head.root_path;
    raw.append(path.data(), path.size());
    scope[k.raw_path] = py::bytes(raw);
  } else {
    scope[k.path] = decoded;
    scope[k.raw_path] = py::bytes(path.data(), path.size());
  }
  scope[k.query_string] = py::bytes(query.data(), query.size());
  scope[k.root_path] = py::str(head.root_path);
  scope[k.headers] = HeadersToPython(head.headers);
  scope[k.client] = Address(head.client_host, head.client_port);
  scope[k.server] = Address(head.server_host, head.server_port);
  return scope;
}

py::dict BuildHttpScope(const HttpRequestHead& head, const ScopeConstants& k, const ScopeOptions& options) {
  py::dict scope = ConnectionScope(head, k, options, k.http);
  scope[k.method] = py::str(head.method);
  scope[k.extensions] = py::dict();
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
  py::dict scope = ConnectionScope(head, k, options, k.websocket);
  scope[k.subprotocols] = OfferedSubprotocols(head.headers);
  py::dict extensions;
  extensions["websocket.http.response"] = py::dict();
  scope[k.extensions] = extensions;
  return scope;
}

}  // namespace node_asgi
