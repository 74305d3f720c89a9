// The one place where the JS thread and the loop thread hand work to each other.
//
// JS → loop: a queue under a mutex plus an eventfd that the asyncio loop watches (add_reader);
// the fd is written only when no wakeup is on its way, so a burst costs one wakeup. New requests
// queue without waking and wake once per turn of Node's event loop, or per kLoopWakeBatch
// (QueueForLoop/WakeLoop): a poll phase that reads 30 requests costs the loop thread 2 wakeups,
// not 30.
// loop → JS: a queue under a mutex plus one "waker" (a Napi thread-safe function in the addon),
// called at most once until the JS thread has drained the queue in one batch. The loop thread can
// also queue without waking and wake once at the end of its loop iteration (QueueForJs/FlushToJs),
// so that a burst of responses costs one wakeup; a long burst wakes JS after kJsWakeResponses
// finished requests, so that JS writes those while the loop thread makes the rest.
// Neither side ever waits for the other: pushes take a short mutex, never the GIL, never JS.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "messages.h"

namespace node_asgi {

class Bridge {
 public:
  Bridge();
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // The eventfd the loop thread watches; readable when ToLoop messages are queued.
  int wakeup_fd() const { return fd_; }

  // Any thread (JS in practice). Never blocks on the loop. Wakes the loop unless it is woken.
  void PushToLoop(ToLoop&& message);
  // JS thread: queues without waking, unless kLoopWakeBatch messages wait (then the loop starts on
  // them while JS reads on). Returns true when the caller must arrange one WakeLoop() (the first
  // message since the last wakeup that no wakeup on its way will deliver).
  bool QueueForLoop(ToLoop&& message);
  static constexpr size_t kLoopWakeBatch = 16;
  // JS thread: wakes the loop if messages wait and it is not woken yet.
  void WakeLoop();
  // Loop thread: clears the wakeup and takes every queued message, oldest first.
  std::vector<ToLoop> TakeForLoop();

  // Loop thread. Never blocks on JS. Wakes JS unless it is already woken.
  void PushToJs(ToJs&& message);
  // Loop thread: queues without waking. Returns true when the caller must arrange one FlushToJs()
  // (the first message since the last flush that no pending wakeup will deliver).
  bool QueueForJs(ToJs&& message);
  // HTTP requests finished (kRequestDone) in one batch after which the loop thread wakes JS at
  // once rather than at the arranged flush, so that JS writes them while the next are made.
  static constexpr size_t kJsWakeResponses = 16;
  // Loop thread: marks a FlushToJs() as arranged ahead of the messages it will carry, so that
  // QueueForJs() asks for no other. Returns false when one already is (nothing to arrange).
  bool ArrangeFlush();
  // Loop thread: wakes JS if messages wait and it is not woken yet.
  void FlushToJs();
  // JS thread: takes every queued message, oldest first.
  std::vector<ToJs> TakeForJs();

  // JS thread: installs (or, with nullptr, removes) the function that wakes the JS thread. Once
  // removed, messages for JS still queue but nobody is woken (the JS environment is gone).
  void SetJsWaker(std::function<void()> waker);

 private:
  void WakeJsLocked();

  int fd_ = -1;
  std::mutex to_loop_mutex_;
  std::vector<ToLoop> to_loop_;
  bool loop_woken_ = false;         // guarded by to_loop_mutex_: fd written, queue not taken since
  bool loop_wake_pending_ = false;  // guarded by to_loop_mutex_: a WakeLoop() is arranged
  std::mutex to_js_mutex_;
  std::vector<ToJs> to_js_;
  std::function<void()> js_waker_;  // guarded by to_js_mutex_
  bool js_woken_ = false;           // guarded by to_js_mutex_: woken, and not drained since
  bool flush_pending_ = false;      // guarded by to_js_mutex_: a FlushToJs() is arranged
  size_t done_since_wake_ = 0;      // guarded by to_js_mutex_: kRequestDone queued since JS was woken
};

}  // namespace node_asgi
