// The Python-facing channel and the `_node_asgi` embedded module (see channel.h).
#include "channel.h"

#include <pybind11/embed.h>

#include "channel_methods.h"
#include "conversions.h"

namespace node_asgi {

Channel::Channel(std::shared_ptr<Bridge> bridge, ChannelOptions options)
    : bridge_(std::move(bridge)), options_(options) {}

py::list Channel::Take() {
  std::vector<ToLoop> messages = bridge_->TakeForLoop();
  py::list out(messages.size());
  size_t i = 0;
  for (ToLoop& m : messages) {
    py::tuple item;
    switch (m.kind) {
      case ToLoop::Kind::kHttpStart:
        item = py::make_tuple(int(kHttp), m.id, BuildHttpScope(*m.head, constants_, options_.scope), m.flag);
        break;
      case ToLoop::Kind::kHttpBody:
        item = py::make_tuple(int(kBody), m.id, py::bytes(m.bytes), m.flag, m.flag2);
        break;
      case ToLoop::Kind::kHttpDisconnect:
        item = py::make_tuple(int(kDisconnect), m.id);
        break;
      case ToLoop::Kind::kHttpDrained:
        item = py::make_tuple(int(kDrained), m.id);
        break;
      case ToLoop::Kind::kWsConnect:
        item = py::make_tuple(int(kWsConnect), m.id, BuildWebSocketScope(*m.head, constants_, options_.scope));
        break;
      case ToLoop::Kind::kWsMessage: {
        py::object payload;
        if (m.flag) {
          PyObject* text = PyUnicode_DecodeUTF8(m.bytes.data(), static_cast<Py_ssize_t>(m.bytes.size()), "replace");
          if (text == nullptr) throw py::error_already_set();
          payload = py::reinterpret_steal<py::object>(text);
        } else {
          payload = py::bytes(m.bytes);
        }
        item = py::make_tuple(int(kWsMessage), m.id, payload, m.flag2);
        break;
      }
      case ToLoop::Kind::kWsDisconnect: {
        PyObject* reason = PyUnicode_DecodeUTF8(m.bytes.data(), static_cast<Py_ssize_t>(m.bytes.size()), "replace");
        if (reason == nullptr) throw py::error_already_set();
        item = py::make_tuple(int(kWsDisconnect), m.id, static_cast<int>(m.number),
                              py::reinterpret_steal<py::object>(reason));
        break;
      }
      case ToLoop::Kind::kShutdown:
        item = py::make_tuple(int(kShutdown), 0, m.number < 0 ? py::object(py::none()) : py::float_(m.number));
        break;
    }
    PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i++), item.release().ptr());
  }
  return out;
}

void Channel::ResponseStart(uint64_t id, py::handle message, bool websocket) {
  ToJs m(ToJs::Kind::kResponseStart, id);
  ParseResponseStart(message, &m.status, &m.headers,
                     websocket ? "websocket.http.response.start" : "http.response.start");
  Post(std::move(m));
}

int64_t Channel::ResponseBody(uint64_t id, py::handle message, int64_t pending, bool websocket) {
  ToJs m(ToJs::Kind::kResponseBody, id);
  m.flag = ParseResponseBody(message, &m.bytes, websocket ? "websocket.http.response.body" : "http.response.body");
  int64_t now_pending = pending + static_cast<int64_t>(m.bytes.size());
  m.flag2 = m.flag && now_pending > options_.response_high_water;
  bool more = m.flag;
  Post(std::move(m));
  return more ? now_pending : -1;
}

void Channel::WsAccept(uint64_t id, py::handle message) {
  ToJs m(ToJs::Kind::kWsAccept, id);
  m.flag = ParseWebSocketAccept(message, &m.bytes, &m.headers);
  Post(std::move(m));
}

int64_t Channel::WsSend(uint64_t id, py::handle message, int64_t pending) {
  ToJs m(ToJs::Kind::kWsSend, id);
  m.flag = ParseWebSocketSend(message, &m.bytes);
  int64_t now_pending = pending + static_cast<int64_t>(m.bytes.size());
  m.flag2 = now_pending > options_.response_high_water;
  Post(std::move(m));
  return now_pending;
}

void Channel::WsClose(uint64_t id, py::handle message) {
  ToJs m(ToJs::Kind::kWsClose, id);
  ParseWebSocketClose(message, &m.number, &m.bytes);
  Post(std::move(m));
}

void Channel::ResumeBody(uint64_t id) { Post(ToJs(ToJs::Kind::kResumeBody, id)); }

void Channel::RequestDone(uint64_t id, bool abort) {
  ToJs m(ToJs::Kind::kRequestDone, id);
  m.flag = abort;
  Post(std::move(m));
}

static std::unique_ptr<PythonErrorInfo> MakeError(std::string type, std::string message, std::string traceback) {
  return std::make_unique<PythonErrorInfo>(PythonErrorInfo{std::move(type), std::move(message), std::move(traceback)});
}

void Channel::AppError(uint64_t id, std::string type, std::string message, std::string traceback) {
  ToJs m(ToJs::Kind::kAppError, id);
  m.error = MakeError(std::move(type), std::move(message), std::move(traceback));
  Post(std::move(m));
}

void Channel::Log(int level, std::string message) {
  ToJs m(ToJs::Kind::kLog);
  m.number = level;
  m.bytes = std::move(message);
  Post(std::move(m));
}

void Channel::Started() { Post(ToJs(ToJs::Kind::kStarted)); }

void Channel::StartFailed(std::string type, std::string message, std::string traceback) {
  ToJs m(ToJs::Kind::kStartFailed);
  m.error = MakeError(std::move(type), std::move(message), std::move(traceback));
  Post(std::move(m));
}

void Channel::Closed() { Post(ToJs(ToJs::Kind::kClosed)); }

}  // namespace node_asgi

namespace py = pybind11;
using node_asgi::Channel;

PYBIND11_EMBEDDED_MODULE(_node_asgi, m) {
  m.doc() = "node-asgi's bridge between the asyncio loop thread and Node.js (internal)";
  py::class_<Channel, std::shared_ptr<Channel>> channel(m, "Channel");
  channel.def_property_readonly("fd", &Channel::fd)
      .def_property_readonly("response_high_water", &Channel::response_high_water)
      .def("ws_accept", &Channel::WsAccept)
      .def("ws_close", &Channel::WsClose)
      .def("app_error", &Channel::AppError)
      .def("log", &Channel::Log)
      .def("started", &Channel::Started)
      .def("start_failed", &Channel::StartFailed)
      .def("closed", &Channel::Closed)
      .def("set_flush_scheduler", &Channel::SetFlushScheduler);
  node_asgi::AddFastMethods(channel);  // take, response_start/body, ws_send, resume_body, request_done, flush
  m.attr("HTTP") = int(Channel::kHttp);
  m.attr("BODY") = int(Channel::kBody);
  m.attr("DISCONNECT") = int(Channel::kDisconnect);
  m.attr("DRAINED") = int(Channel::kDrained);
  m.attr("SHUTDOWN") = int(Channel::kShutdown);
  m.attr("WS_CONNECT") = int(Channel::kWsConnect);
  m.attr("WS_MESSAGE") = int(Channel::kWsMessage);
  m.attr("WS_DISCONNECT") = int(Channel::kWsDisconnect);
}
