// Bridge: the cross-thread queues and their wakeups (eventfd towards the loop, waker towards JS).
#include "bridge.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using node_asgi::Bridge;
using node_asgi::ToJs;
using node_asgi::ToLoop;

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  int n = poll(&p, 1, 0);
  return n == 1 && (p.revents & POLLIN);
}

uint64_t ReadCounter(int fd) {
  uint64_t value = 0;
  if (read(fd, &value, sizeof value) != sizeof value) return 0;
  return value;
}

TEST(Bridge, TakeForLoopReturnsMessagesOldestFirstWithTheirFields) {
  Bridge bridge;
  for (uint64_t id = 1; id <= 3; ++id) {
    ToLoop m(ToLoop::Kind::kHttpBody, id);
    m.bytes = "chunk" + std::to_string(id);
    m.flag = id < 3;
    bridge.PushToLoop(std::move(m));
  }
  std::vector<ToLoop> taken = bridge.TakeForLoop();
  ASSERT_EQ(taken.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(taken[i].kind, ToLoop::Kind::kHttpBody);
    EXPECT_EQ(taken[i].id, i + 1);
    EXPECT_EQ(taken[i].bytes, "chunk" + std::to_string(i + 1));
    EXPECT_EQ(taken[i].flag, i < 2);
  }
  EXPECT_TRUE(bridge.TakeForLoop().empty());
}

TEST(Bridge, TakeForJsReturnsMessagesOldestFirstWithTheirFields) {
  Bridge bridge;
  ToJs start(ToJs::Kind::kResponseStart, 7);
  start.status = 201;
  start.headers = {{"content-type", "text/plain"}};
  bridge.PushToJs(std::move(start));
  ToJs body(ToJs::Kind::kResponseBody, 7);
  body.bytes = "hello";
  bridge.PushToJs(std::move(body));
  bridge.PushToJs(ToJs(ToJs::Kind::kRequestDone, 7));

  std::vector<ToJs> taken = bridge.TakeForJs();
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0].kind, ToJs::Kind::kResponseStart);
  EXPECT_EQ(taken[0].status, 201);
  ASSERT_EQ(taken[0].headers.size(), 1u);
  EXPECT_EQ(taken[0].headers[0].second, "text/plain");
  EXPECT_EQ(taken[1].kind, ToJs::Kind::kResponseBody);
  EXPECT_EQ(taken[1].bytes, "hello");
  EXPECT_EQ(taken[2].kind, ToJs::Kind::kRequestDone);
  for (const ToJs& m : taken) EXPECT_EQ(m.id, 7u);
  EXPECT_TRUE(bridge.TakeForJs().empty());
}

TEST(Bridge, HeadOwnershipMovesThroughTheQueue) {
  Bridge bridge;
  ToLoop m(ToLoop::Kind::kHttpStart, 1);
  m.head = std::make_unique<node_asgi::HttpRequestHead>();
  m.head->method = "GET";
  m.head->target = "/x";
  bridge.PushToLoop(std::move(m));
  std::vector<ToLoop> taken = bridge.TakeForLoop();
  ASSERT_EQ(taken.size(), 1u);
  ASSERT_NE(taken[0].head, nullptr);
  EXPECT_EQ(taken[0].head->method, "GET");
  EXPECT_EQ(taken[0].head->target, "/x");
}

TEST(Bridge, WakeupFdIsReadableOnlyWhileMessagesAreQueued) {
  Bridge bridge;
  ASSERT_GE(bridge.wakeup_fd(), 0);
  EXPECT_FALSE(Readable(bridge.wakeup_fd()));
  bridge.PushToLoop(ToLoop(ToLoop::Kind::kHttpDisconnect, 1));
  EXPECT_TRUE(Readable(bridge.wakeup_fd()));
  EXPECT_EQ(bridge.TakeForLoop().size(), 1u);
  EXPECT_FALSE(Readable(bridge.wakeup_fd()));
  // Taking from an empty queue neither blocks nor makes the fd readable.
  EXPECT_TRUE(bridge.TakeForLoop().empty());
  EXPECT_FALSE(Readable(bridge.wakeup_fd()));
}

TEST(Bridge, BurstOfPushesWritesTheEventfdOnce) {
  Bridge bridge;
  for (int i = 0; i < 100; ++i) bridge.PushToLoop(ToLoop(ToLoop::Kind::kHttpDrained, i));
  // The counter says how many writes happened since the last read: one for the whole burst.
  EXPECT_EQ(ReadCounter(bridge.wakeup_fd()), 1u);
  bridge.PushToLoop(ToLoop(ToLoop::Kind::kHttpDrained, 100));  // queue still non-empty: no write
  EXPECT_FALSE(Readable(bridge.wakeup_fd()));
  EXPECT_EQ(bridge.TakeForLoop().size(), 101u);
  // After the queue is emptied, the next push wakes again.
  bridge.PushToLoop(ToLoop(ToLoop::Kind::kHttpDrained, 101));
  EXPECT_EQ(ReadCounter(bridge.wakeup_fd()), 1u);
}

TEST(Bridge, QueuedMessagesWaitForOneArrangedWakeLoop) {
  Bridge bridge;
  constexpr uint64_t kBelowBatch = Bridge::kLoopWakeBatch - 1;
  // Only the first message of a burst asks the caller to arrange a wakeup.
  EXPECT_TRUE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpStart, 0)));
  for (uint64_t i = 1; i < kBelowBatch; ++i) EXPECT_FALSE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpStart, i)));
  EXPECT_FALSE(Readable(bridge.wakeup_fd()));  // the loop is not woken before WakeLoop()
  bridge.WakeLoop();
  EXPECT_EQ(ReadCounter(bridge.wakeup_fd()), 1u);
  // Woken and not taken yet: later messages ride on that wakeup and ask for none.
  EXPECT_FALSE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpStart, kBelowBatch)));
  std::vector<ToLoop> taken = bridge.TakeForLoop();
  ASSERT_EQ(taken.size(), kBelowBatch + 1);
  for (size_t i = 0; i < taken.size(); ++i) EXPECT_EQ(taken[i].id, i);
  // After the take, the next burst asks again.
  EXPECT_TRUE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpStart, 99)));
}

TEST(Bridge, AFullBatchWakesTheLoopWithoutWaitingForWakeLoop) {
  Bridge bridge;
  EXPECT_TRUE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpStart, 0)));
  for (uint64_t i = 1; i + 1 < Bridge::kLoopWakeBatch; ++i) bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpStart, i));
  EXPECT_FALSE(Readable(bridge.wakeup_fd()));
  EXPECT_FALSE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpStart, Bridge::kLoopWakeBatch - 1)));
  EXPECT_EQ(ReadCounter(bridge.wakeup_fd()), 1u);  // the batch is full: the loop starts on it now
  EXPECT_EQ(bridge.TakeForLoop().size(), Bridge::kLoopWakeBatch);
  // A message after the take still rides on the WakeLoop() arranged for the turn.
  EXPECT_FALSE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpStart, 100)));
  bridge.WakeLoop();
  EXPECT_EQ(ReadCounter(bridge.wakeup_fd()), 1u);
  EXPECT_EQ(bridge.TakeForLoop().size(), 1u);
}

TEST(Bridge, PushToLoopWakesAtOnceEvenWithAWakeLoopArranged) {
  Bridge bridge;
  ASSERT_TRUE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpDrained, 1)));
  bridge.PushToLoop(ToLoop(ToLoop::Kind::kShutdown));  // control messages do not wait
  EXPECT_EQ(ReadCounter(bridge.wakeup_fd()), 1u);
  bridge.WakeLoop();  // the arranged wakeup finds the loop already woken: no second write
  EXPECT_FALSE(Readable(bridge.wakeup_fd()));
  std::vector<ToLoop> taken = bridge.TakeForLoop();
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].kind, ToLoop::Kind::kHttpDrained);
  EXPECT_EQ(taken[1].kind, ToLoop::Kind::kShutdown);
}

TEST(Bridge, WakeLoopWithNothingQueuedDoesNotWake) {
  Bridge bridge;
  ASSERT_TRUE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpDrained, 1)));
  EXPECT_EQ(bridge.TakeForLoop().size(), 1u);  // taken by a wakeup for something else
  bridge.WakeLoop();
  EXPECT_FALSE(Readable(bridge.wakeup_fd()));
  EXPECT_TRUE(bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpDrained, 2)));  // and the next burst asks again
}

// The loop thread takes while the JS thread queues and wakes once per turn when asked: every
// message arrives, in order, and none is left behind.
TEST(Bridge, ConcurrentQueueAndTakeLoseNothing) {
  Bridge bridge;
  constexpr uint64_t kCount = 20000;
  std::thread loop([&] {
    uint64_t next = 0;
    while (next < kCount) {
      pollfd p{bridge.wakeup_fd(), POLLIN, 0};
      ASSERT_EQ(poll(&p, 1, 5000), 1) << "stranded after message " << next;
      for (const ToLoop& m : bridge.TakeForLoop()) ASSERT_EQ(m.id, next++);
    }
  });
  bool arranged = false;  // as the JS thread does: one WakeLoop() at the end of a turn that asked
  for (uint64_t i = 0; i < kCount; ++i) {
    arranged = bridge.QueueForLoop(ToLoop(ToLoop::Kind::kHttpDrained, i)) || arranged;
    if (i % 13 == 12) {  // the end of a turn of 13 messages
      if (arranged) bridge.WakeLoop();
      arranged = false;
      if (i % 7 == 0) std::this_thread::yield();
    }
  }
  if (arranged) bridge.WakeLoop();
  loop.join();
}

TEST(Bridge, WakeupFdIsNonBlockingAndCloseOnExec) {
  Bridge bridge;
  int flags = fcntl(bridge.wakeup_fd(), F_GETFL);
  EXPECT_TRUE(flags & O_NONBLOCK);
  EXPECT_TRUE(fcntl(bridge.wakeup_fd(), F_GETFD) & FD_CLOEXEC);
}

TEST(Bridge, EachBridgeHasItsOwnFdClosedOnDestruction) {
  int fd;
  {
    Bridge a, b;
    EXPECT_NE(a.wakeup_fd(), b.wakeup_fd());
    fd = a.wakeup_fd();
  }
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(Bridge, JsWakerIsCalledOnlyWhenTheQueueBecomesNonEmpty) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  EXPECT_EQ(wakes, 0);
  bridge.PushToJs(ToJs(ToJs::Kind::kLog));
  bridge.PushToJs(ToJs(ToJs::Kind::kLog));
  bridge.PushToJs(ToJs(ToJs::Kind::kLog));
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(bridge.TakeForJs().size(), 3u);
  EXPECT_EQ(wakes, 1);
  bridge.PushToJs(ToJs(ToJs::Kind::kLog));
  EXPECT_EQ(wakes, 2);
}

TEST(Bridge, InstallingAWakerWithMessagesPendingWakesAtOnce) {
  Bridge bridge;
  bridge.PushToJs(ToJs(ToJs::Kind::kStarted));
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  EXPECT_EQ(wakes, 1);
}

TEST(Bridge, RemovedWakerIsNeverCalledButMessagesStillQueue) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  bridge.SetJsWaker(nullptr);
  bridge.PushToJs(ToJs(ToJs::Kind::kClosed));
  bridge.PushToJs(ToJs(ToJs::Kind::kLoopExited));
  EXPECT_EQ(wakes, 0);
  EXPECT_EQ(bridge.TakeForJs().size(), 2u);
}

TEST(Bridge, JsIsWokenOnceUntilItDrainsTheQueue) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  bridge.PushToJs(ToJs(ToJs::Kind::kLog));
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(bridge.TakeForJs().size(), 1u);
  // An empty take (a spurious drain) does not make the next push wake twice.
  EXPECT_TRUE(bridge.TakeForJs().empty());
  bridge.PushToJs(ToJs(ToJs::Kind::kLog));
  bridge.PushToJs(ToJs(ToJs::Kind::kLog));
  EXPECT_EQ(wakes, 2);
}

TEST(Bridge, QueueForJsDoesNotWakeAndAsksForOneFlush) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  EXPECT_TRUE(bridge.QueueForJs(ToJs(ToJs::Kind::kResponseStart, 1)));  // the caller arranges a flush
  EXPECT_FALSE(bridge.QueueForJs(ToJs(ToJs::Kind::kResponseBody, 1)));  // already arranged
  EXPECT_FALSE(bridge.QueueForJs(ToJs(ToJs::Kind::kRequestDone, 1)));
  EXPECT_EQ(wakes, 0);
  bridge.FlushToJs();
  EXPECT_EQ(wakes, 1);
  bridge.FlushToJs();  // already woken, not drained yet
  EXPECT_EQ(wakes, 1);
  std::vector<ToJs> taken = bridge.TakeForJs();
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0].kind, ToJs::Kind::kResponseStart);
  EXPECT_EQ(taken[2].kind, ToJs::Kind::kRequestDone);
  // After the drain, the next queued message asks for a new flush.
  EXPECT_TRUE(bridge.QueueForJs(ToJs(ToJs::Kind::kResponseStart, 2)));
}

TEST(Bridge, ManyFinishedRequestsWakeJsBeforeTheArrangedFlush) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  EXPECT_TRUE(bridge.QueueForJs(ToJs(ToJs::Kind::kResponseStart, 1)));  // a flush is arranged
  for (uint64_t id = 1; id < Bridge::kJsWakeResponses; ++id) {
    EXPECT_FALSE(bridge.QueueForJs(ToJs(ToJs::Kind::kRequestDone, id)));
  }
  EXPECT_EQ(wakes, 0) << "one response short of the batch";
  EXPECT_FALSE(bridge.QueueForJs(ToJs(ToJs::Kind::kRequestDone, Bridge::kJsWakeResponses)));
  EXPECT_EQ(wakes, 1) << "a full batch of finished requests wakes JS at once";
  EXPECT_EQ(bridge.TakeForJs().size(), 1u + Bridge::kJsWakeResponses);
  // What follows the drain still rides on the flush arranged at the start.
  EXPECT_FALSE(bridge.QueueForJs(ToJs(ToJs::Kind::kRequestDone, 99)));
  bridge.FlushToJs();
  EXPECT_EQ(wakes, 2);
  EXPECT_EQ(bridge.TakeForJs().size(), 1u);
}

TEST(Bridge, WebSocketMessagesNeverWakeJsBeforeTheArrangedFlush) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  EXPECT_TRUE(bridge.QueueForJs(ToJs(ToJs::Kind::kWsSend, 1)));
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(bridge.QueueForJs(ToJs(ToJs::Kind::kWsSend, 1)));
  EXPECT_EQ(wakes, 0) << "JS writes one corked batch per connection";
  bridge.FlushToJs();
  EXPECT_EQ(wakes, 1);
}

TEST(Bridge, ArrangeFlushAheadOfMessagesMeansTheyAskForNoOther) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  EXPECT_TRUE(bridge.ArrangeFlush());
  EXPECT_FALSE(bridge.ArrangeFlush()) << "already arranged";
  EXPECT_FALSE(bridge.QueueForJs(ToJs(ToJs::Kind::kResponseStart, 1))) << "the arranged flush will carry it";
  EXPECT_EQ(wakes, 0);
  bridge.FlushToJs();
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(bridge.TakeForJs().size(), 1u);
  EXPECT_TRUE(bridge.ArrangeFlush()) << "the flush ran: a new one can be arranged";
  bridge.FlushToJs();  // nothing queued: nobody is woken
  EXPECT_EQ(wakes, 1);
}

TEST(Bridge, QueueForJsWhileJsIsWokenNeedsNoFlush) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  bridge.PushToJs(ToJs(ToJs::Kind::kResponseStart, 1));
  EXPECT_EQ(wakes, 1);
  // The pending wakeup's drain will take this one too.
  EXPECT_FALSE(bridge.QueueForJs(ToJs(ToJs::Kind::kResponseBody, 1)));
  EXPECT_EQ(bridge.TakeForJs().size(), 2u);
  EXPECT_EQ(wakes, 1);
}

TEST(Bridge, FlushToJsWithNothingQueuedDoesNotWake) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  bridge.FlushToJs();
  EXPECT_EQ(wakes, 0);
}

TEST(Bridge, PushToJsWakesEvenWhileAFlushIsArranged) {
  Bridge bridge;
  int wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  EXPECT_TRUE(bridge.QueueForJs(ToJs(ToJs::Kind::kResponseBody, 1)));
  bridge.PushToJs(ToJs(ToJs::Kind::kLoopExited));  // e.g. the loop thread's last word
  EXPECT_EQ(wakes, 1);
  bridge.FlushToJs();
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(bridge.TakeForJs().size(), 2u);
}

// What a consumer of several producers' messages saw: ids are (producer << 32) | sequence, and
// each producer's must arrive in sequence.
struct ProducerOrder {
  explicit ProducerOrder(int producers) : next(producers, 0) {}
  void Saw(uint64_t id) {
    int p = static_cast<int>(id >> 32);
    uint64_t i = id & 0xffffffffu;
    if (i != next[p]) in_order = false;
    next[p] = i + 1;
    ++received;
  }
  std::vector<uint64_t> next;
  uint64_t received = 0;
  bool in_order = true;
};

// Several JS-side producers push into the loop queue while one consumer drains it on eventfd
// wakeups: every message arrives exactly once, each producer's in its own order, and no wakeup is
// lost (the consumer waits only on the fd).
TEST(Bridge, ConcurrentProducersToLoopLoseNothing) {
  constexpr int kProducers = 4;
  constexpr uint64_t kPerProducer = 20000;
  Bridge bridge;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&bridge, p] {
      for (uint64_t i = 0; i < kPerProducer; ++i) {
        ToLoop m(ToLoop::Kind::kHttpBody, (uint64_t(p) << 32) | i);
        bridge.PushToLoop(std::move(m));
      }
    });
  }
  ProducerOrder order(kProducers);
  while (order.received < kProducers * kPerProducer) {
    pollfd pfd{bridge.wakeup_fd(), POLLIN, 0};
    ASSERT_EQ(poll(&pfd, 1, 10000), 1) << "lost wakeup after " << order.received << " messages";
    for (const ToLoop& m : bridge.TakeForLoop()) order.Saw(m.id);
  }
  for (auto& t : producers) t.join();
  EXPECT_TRUE(order.in_order);
  EXPECT_EQ(order.received, kProducers * kPerProducer);
  EXPECT_TRUE(bridge.TakeForLoop().empty());
}

// Several loop-side producers push towards JS (some waking per message, one queueing batches and
// flushing once per batch, as the loop thread does per iteration); the consumer sleeps until the
// waker fires and then drains, as the JS thread does. Nothing is lost, no wakeup is lost, and each
// wake announces exactly one non-empty drain.
TEST(Bridge, ConcurrentProducersToJsLoseNothingAndNoWakeup) {
  constexpr int kPushers = 3;
  constexpr uint64_t kPerProducer = 20000;
  constexpr int kProducers = kPushers + 1;
  Bridge bridge;
  std::mutex mutex;
  std::condition_variable woken;
  uint64_t wakes = 0;
  bridge.SetJsWaker([&] {
    std::lock_guard<std::mutex> lock(mutex);
    ++wakes;
    woken.notify_one();
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < kPushers; ++p) {
    producers.emplace_back([&bridge, p] {
      for (uint64_t i = 0; i < kPerProducer; ++i) bridge.PushToJs(ToJs(ToJs::Kind::kResponseBody, (uint64_t(p) << 32) | i));
    });
  }
  producers.emplace_back([&bridge] {
    bool flush = false;
    for (uint64_t i = 0; i < kPerProducer; ++i) {
      flush |= bridge.QueueForJs(ToJs(ToJs::Kind::kResponseBody, (uint64_t(kPushers) << 32) | i));
      if (flush && i % 16 == 15) {  // end of a "loop iteration"
        bridge.FlushToJs();
        flush = false;
      }
    }
    if (flush) bridge.FlushToJs();
  });

  ProducerOrder order(kProducers);
  uint64_t drains_with_messages = 0, seen_wakes = 0;
  while (order.received < kProducers * kPerProducer) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      ASSERT_TRUE(woken.wait_for(lock, std::chrono::seconds(10), [&] { return wakes > seen_wakes; }))
          << "lost wakeup after " << order.received << " messages";
      seen_wakes = wakes;
    }
    std::vector<ToJs> batch = bridge.TakeForJs();
    if (!batch.empty()) ++drains_with_messages;
    for (const ToJs& m : batch) order.Saw(m.id);
  }
  for (auto& t : producers) t.join();
  EXPECT_TRUE(order.in_order);
  EXPECT_EQ(order.received, kProducers * kPerProducer);
  EXPECT_TRUE(bridge.TakeForJs().empty());
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(wakes, drains_with_messages);
  }
  // Not under `mutex`: the bridge calls the waker (which takes `mutex`) under its own lock.
  bridge.SetJsWaker(nullptr);
}

}  // namespace
