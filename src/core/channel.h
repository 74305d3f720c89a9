// The loop thread's side of a Bridge, exposed to the Python runtime as `_node_asgi.Channel`:
// take() turns queued ToLoop messages into Python values (scopes, bytes); the other methods
// validate what the app sent and queue it for JS. Loop thread only; GIL held.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>

#include "bridge.h"
#include "scope.h"

namespace node_asgi {

namespace py = pybind11;

struct ChannelOptions {
  ScopeOptions scope;
  // Response bytes the app may send ahead of the JS sink before its send() waits for a drain.
  int64_t response_high_water = 64 * 1024;
};

class Channel {
 public:
  // Kinds of the tuples take() returns: (kind, id, ...).
  enum TakeKind {
    kHttp = 0, kBody = 1, kDisconnect = 2, kDrained = 3, kShutdown = 4,
    kWsConnect = 5, kWsMessage = 6, kWsDisconnect = 7,
  };

  Channel(std::shared_ptr<Bridge> bridge, ChannelOptions options);

  int fd() const { return bridge_->wakeup_fd(); }
  int64_t response_high_water() const { return options_.response_high_water; }

  // (kHttp, id, scope, body_complete) | (kBody, id, bytes, more_body, paused) | (kDisconnect, id) |
  // (kDrained, id) | (kShutdown, 0, timeout_seconds_or_None) | (kWsConnect, id, scope) |
  // (kWsMessage, id, bytes_or_str, paused) | (kWsDisconnect, id, code, reason)
  py::list Take();

  // `websocket` selects the denial-response message names (websocket.http.response.*).
  void ResponseStart(uint64_t id, py::handle message, bool websocket);
  // Queues the body; returns the bytes now unacknowledged by JS (pending + len(body)), or -1 when
  // the message ended the response (more_body false). Asks JS for a drain acknowledgement when
  // the result exceeds the high-water mark.
  int64_t ResponseBody(uint64_t id, py::handle message, int64_t pending, bool websocket);
  void WsAccept(uint64_t id, py::handle message);
  // Queues a message; returns the bytes now unacknowledged (pending + size), asking JS for a drain
  // acknowledgement above the high-water mark, like ResponseBody.
  int64_t WsSend(uint64_t id, py::handle message, int64_t pending);
  void WsClose(uint64_t id, py::handle message);
  void ResumeBody(uint64_t id);
  void RequestDone(uint64_t id, bool abort);
  void AppError(uint64_t id, std::string type, std::string message, std::string traceback);
  void Log(int level, std::string message);
  void Started();
  void StartFailed(std::string type, std::string message, std::string traceback);
  void Closed();

  // Messages are queued for JS without a wakeup; the first one since the last flush calls
  // `scheduler` (the runtime passes `functools.partial(loop.call_soon, channel.flush)`), so JS is
  // woken once per loop iteration however many responses it produced.
  void SetFlushScheduler(py::object scheduler) {
    flush_scheduler_ = scheduler.is_none() ? py::object() : std::move(scheduler);
  }
  void Flush() { bridge_->FlushToJs(); }
  // Schedules a flush now, behind the callbacks already queued on the loop: called after a batch
  // from Node started or woke tasks, it lets their responses reach JS in the same loop iteration
  // instead of the next one (the flush a first response would otherwise schedule).
  void FlushSoon() {
    if (!flush_scheduler_ || !bridge_->ArrangeFlush()) return;
    try {
      flush_scheduler_();
    } catch (...) {
      bridge_->FlushToJs();
      throw;
    }
  }

 private:
  void Post(ToJs&& message) {
    if (!bridge_->QueueForJs(std::move(message))) return;
    if (!flush_scheduler_) {
      bridge_->FlushToJs();
      return;
    }
    try {
      flush_scheduler_();
    } catch (...) {  // e.g. "Event loop is closed": wake JS now rather than never
      bridge_->FlushToJs();
      throw;
    }
  }

  std::shared_ptr<Bridge> bridge_;
  ChannelOptions options_;
  ScopeConstants constants_;
  py::object flush_scheduler_;
};

}  // namespace node_asgi
