// Routes the loop thread's events for requests served by the native server to the connections
// that own them, so that they never reach JavaScript. One per NativeHandler. JS thread only.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "../core/messages.h"

namespace node_asgi::server {

// A connection serving one or more requests of the native server.
class RequestTarget {
 public:
  virtual ~RequestTarget() = default;
  // A response/WebSocket event for one of this target's request ids.
  virtual void OnEvent(ToJs& message) = 0;
  // The loop thread is gone: answer 503 or close.
  virtual void OnLoopGone() = 0;
};

// Something to run once a batch of events has been routed (the servers flush their writes).
class BatchListener {
 public:
  virtual ~BatchListener() = default;
  virtual void AfterBatch() = 0;
};

class RequestRouter {
 public:
  // Native request ids start above every id JS hands out (JS counts from 1 in doubles).
  static constexpr uint64_t kFirstId = uint64_t(1) << 53;
  static bool IsNative(uint64_t id) { return id >= kFirstId; }

  uint64_t Add(RequestTarget* target) {
    uint64_t id = next_id_++;
    targets_.emplace(id, target);
    return id;
  }
  void Remove(uint64_t id) { targets_.erase(id); }
  size_t size() const { return targets_.size(); }

  void AddListener(BatchListener* listener) { listeners_.push_back(listener); }
  void RemoveListener(BatchListener* listener);

  // Delivers the native requests' events to their targets and keeps the others (logs, app
  // errors, JS requests' events) in `messages`, in order, for JS. Then every listener flushes.
  void Route(std::vector<ToJs>& messages);
  // The loop thread ended: every native request is answered 503 or closed.
  void LoopGone();
  // True once LoopGone() ran: new requests are answered 503 without reaching the loop.
  bool loop_gone() const { return loop_gone_; }
  // A log line from a connection (level 10 debug .. 50 critical) for the handler's logger: it
  // joins the batch being routed, or the next one when no batch is being routed now.
  void Log(int level, std::string message);

 private:
  uint64_t next_id_ = kFirstId;
  std::unordered_map<uint64_t, RequestTarget*> targets_;
  std::vector<BatchListener*> listeners_;
  bool loop_gone_ = false;
  std::vector<ToJs> logs_;  // from Log(), handed to JS at the end of the next Route()
};

}  // namespace node_asgi::server
