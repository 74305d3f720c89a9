// Routing of native requests' events (see request_router.h). JS thread only.
#include "request_router.h"

#include <algorithm>

namespace node_asgi::server {

void RequestRouter::RemoveListener(BatchListener* listener) {
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

static bool ForTarget(ToJs::Kind kind) {
  switch (kind) {
    case ToJs::Kind::kResponseStart:
    case ToJs::Kind::kResponseBody:
    case ToJs::Kind::kResumeBody:
    case ToJs::Kind::kRequestDone:
    case ToJs::Kind::kWsAccept:
    case ToJs::Kind::kWsSend:
    case ToJs::Kind::kWsClose:
      return true;
    default:
      return false;  // logs, app errors (JS logs them and emits 'appError'), lifecycle
  }
}

void RequestRouter::Log(int level, std::string message) {
  ToJs m(ToJs::Kind::kLog);
  m.number = level;
  m.bytes = std::move(message);
  logs_.push_back(std::move(m));
}

void RequestRouter::Route(std::vector<ToJs>& messages) {
  if (targets_.empty() && listeners_.empty() && logs_.empty()) return;
  size_t kept = 0;
  bool touched = false;
  for (size_t i = 0; i < messages.size(); ++i) {
    ToJs& m = messages[i];
    if (IsNative(m.id) && ForTarget(m.kind)) {
      auto it = targets_.find(m.id);
      if (it != targets_.end()) {
        RequestTarget* target = it->second;
        if (m.kind == ToJs::Kind::kRequestDone) targets_.erase(it);
        target->OnEvent(m);  // may remove other ids of its own (never call back into Route)
        touched = true;
      }
      continue;
    }
    if (kept != i) messages[kept] = std::move(m);
    ++kept;
  }
  messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(kept), messages.end());
  for (ToJs& log : logs_) messages.push_back(std::move(log));
  logs_.clear();
  if (touched) {
    for (BatchListener* listener : std::vector<BatchListener*>(listeners_)) listener->AfterBatch();
  }
}

void RequestRouter::LoopGone() {
  loop_gone_ = true;
  std::vector<RequestTarget*> targets;
  for (auto& [id, target] : targets_) {
    if (std::find(targets.begin(), targets.end(), target) == targets.end()) targets.push_back(target);
  }
  targets_.clear();
  for (RequestTarget* target : targets) target->OnLoopGone();
  for (BatchListener* listener : std::vector<BatchListener*>(listeners_)) listener->AfterBatch();
}

}  // namespace node_asgi::server
