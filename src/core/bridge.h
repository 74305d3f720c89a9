// The one place where the JS thread and the loop thread hand work to each other.
//
// JS → loop: a queue under a mutex plus an eventfd that the asyncio loop watches (add_reader);
// the fd is written only when the queue goes from empty to non-empty, so a burst costs one wakeup.
// loop → JS: a queue under a mutex plus one "waker" (a Napi thread-safe function in the addon),
// called only when that queue goes from empty to non-empty; the JS thread drains it in one batch.
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

  // Any thread (JS in practice). Never blocks on the loop.
  void PushToLoop(ToLoop&& message);
  // Loop thread: clears the wakeup and takes every queued message, oldest first.
  std::vector<ToLoop> TakeForLoop();

  // Loop thread. Never blocks on JS.
  void PushToJs(ToJs&& message);
  // JS thread: takes every queued message, oldest first.
  std::vector<ToJs> TakeForJs();

  // JS thread: installs (or, with nullptr, removes) the function that wakes the JS thread. Once
  // removed, messages for JS still queue but nobody is woken (the JS environment is gone).
  void SetJsWaker(std::function<void()> waker);

 private:
  int fd_ = -1;
  std::mutex to_loop_mutex_;
  std::vector<ToLoop> to_loop_;
  std::mutex to_js_mutex_;
  std::vector<ToJs> to_js_;
  std::function<void()> js_waker_;  // guarded by to_js_mutex_
};

}  // namespace node_asgi
