// The cross-thread queues between the JS thread and the loop thread (see bridge.h).
#include "bridge.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace node_asgi {

Bridge::Bridge() {
  fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(std::string("node-asgi: eventfd failed: ") + std::strerror(errno));
}

Bridge::~Bridge() {
  if (fd_ >= 0) close(fd_);
}

// The eventfd write happens outside the lock; a loop thread that takes the queue in between
// only sees one spurious wakeup later (an empty take).
static void WriteWakeup(int fd) {
  uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the loop will wake anyway.
  while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void Bridge::PushToLoop(ToLoop&& message) {
  {
    std::lock_guard<std::mutex> lock(to_loop_mutex_);
    to_loop_.push_back(std::move(message));
    if (loop_woken_) return;
    loop_woken_ = true;
  }
  WriteWakeup(fd_);
}

bool Bridge::QueueForLoop(ToLoop&& message) {
  {
    std::lock_guard<std::mutex> lock(to_loop_mutex_);
    to_loop_.push_back(std::move(message));
    if (loop_woken_) return false;
    if (to_loop_.size() < kLoopWakeBatch) {
      if (loop_wake_pending_) return false;
      loop_wake_pending_ = true;
      return true;
    }
    loop_woken_ = true;  // a full batch: the loop starts on it while JS reads on
  }
  WriteWakeup(fd_);
  return false;
}

void Bridge::WakeLoop() {
  {
    std::lock_guard<std::mutex> lock(to_loop_mutex_);
    loop_wake_pending_ = false;
    if (loop_woken_ || to_loop_.empty()) return;
    loop_woken_ = true;
  }
  WriteWakeup(fd_);
}

std::vector<ToLoop> Bridge::TakeForLoop() {
  uint64_t count;
  while (read(fd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
  std::vector<ToLoop> taken;
  std::lock_guard<std::mutex> lock(to_loop_mutex_);
  taken.swap(to_loop_);
  loop_woken_ = false;
  return taken;
}

// Callers hold to_js_mutex_, so that SetJsWaker(nullptr) cannot race with a wake in progress.
void Bridge::WakeJsLocked() {
  if (js_woken_ || to_js_.empty() || !js_waker_) return;
  js_woken_ = true;
  done_since_wake_ = 0;
  js_waker_();
}

void Bridge::PushToJs(ToJs&& message) {
  std::lock_guard<std::mutex> lock(to_js_mutex_);
  to_js_.push_back(std::move(message));
  WakeJsLocked();
}

bool Bridge::QueueForJs(ToJs&& message) {
  std::lock_guard<std::mutex> lock(to_js_mutex_);
  bool done = message.kind == ToJs::Kind::kRequestDone;
  to_js_.push_back(std::move(message));
  if (js_woken_) return false;
  // JS starts writing the finished responses while the loop thread makes the next ones. Only
  // finished HTTP requests count: waking early for WebSocket messages split the batches that
  // JS writes corked per connection (10-connection echo 500k → 380–455k msg/s).
  if (done && ++done_since_wake_ >= kJsWakeResponses) {
    WakeJsLocked();
    return false;
  }
  if (flush_pending_) return false;
  flush_pending_ = true;
  return true;
}

bool Bridge::ArrangeFlush() {
  std::lock_guard<std::mutex> lock(to_js_mutex_);
  if (flush_pending_) return false;
  flush_pending_ = true;
  return true;
}

void Bridge::FlushToJs() {
  std::lock_guard<std::mutex> lock(to_js_mutex_);
  flush_pending_ = false;
  WakeJsLocked();
}

std::vector<ToJs> Bridge::TakeForJs() {
  std::vector<ToJs> taken;
  std::lock_guard<std::mutex> lock(to_js_mutex_);
  taken.swap(to_js_);
  js_woken_ = false;
  return taken;
}

void Bridge::SetJsWaker(std::function<void()> waker) {
  std::lock_guard<std::mutex> lock(to_js_mutex_);
  js_waker_ = std::move(waker);
  js_woken_ = false;
  WakeJsLocked();
}

}  // namespace node_asgi
