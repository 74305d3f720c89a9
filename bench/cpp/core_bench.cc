// Micro-benchmarks of the C++ core's per-request work: scope building, message validation and the
// cross-thread bridge. One embedded interpreter for the whole run; benchmarks run on the main thread
// with the GIL held. Run with scripts/bench-cpp.sh.
#include <benchmark/benchmark.h>
#include <poll.h>
#include <pybind11/embed.h>

#include <memory>
#include <string>
#include <thread>

#include "bridge.h"
#include "channel.h"
#include "conversions.h"
#include "scope.h"
#include "embedded_python.h"  // test/cpp: starts Python as the tests do

namespace {

namespace py = pybind11;
using namespace node_asgi;

// Python objects the benchmarks share: created after the interpreter starts, released before it
// stops (never in a static with a destructor).
struct PythonState {
  ScopeConstants constants;
  py::object response_start;  // http.response.start with 5 headers
  py::object response_body;   // http.response.body with 1 KiB
};
PythonState* g_python = nullptr;

// A typical browser navigation: 12 headers, a query string, a client and a server address.
HttpRequestHead BrowserHead() {
  HttpRequestHead head;
  head.method = "GET";
  head.scheme = "http";
  head.http_version = "1.1";
  head.target = "/products/caf%C3%A9/items?page=2&sort=price&q=espresso%20beans";
  head.headers = {
      {"Host", "shop.example.com"},
      {"Connection", "keep-alive"},
      {"Cache-Control", "max-age=0"},
      {"sec-ch-ua", "\"Chromium\";v=\"118\", \"Google Chrome\";v=\"118\", \"Not=A?Brand\";v=\"99\""},
      {"sec-ch-ua-mobile", "?0"},
      {"sec-ch-ua-platform", "\"Linux\""},
      {"Upgrade-Insecure-Requests", "1"},
      {"User-Agent",
       "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36"},
      {"Accept",
       "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"},
      {"Accept-Encoding", "gzip, deflate, br"},
      {"Accept-Language", "en-GB,en-US;q=0.9,en;q=0.8"},
      {"Cookie", "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; _ga=GA1.1.123456789.1700000000"},
  };
  head.client_host = "192.168.1.20";
  head.client_port = 51234;
  head.server_host = "10.0.0.5";
  head.server_port = 8000;
  return head;
}

void BM_BuildHttpScope(benchmark::State& state) {
  HttpRequestHead head = BrowserHead();
  ScopeOptions options;
  for (auto _ : state) {
    py::dict scope = BuildHttpScope(head, g_python->constants, options);
    benchmark::DoNotOptimize(scope.ptr());
  }
}
BENCHMARK(BM_BuildHttpScope);

void BM_HeadersToPython(benchmark::State& state) {
  HttpRequestHead head = BrowserHead();
  for (auto _ : state) {
    py::list headers = HeadersToPython(head.headers);
    benchmark::DoNotOptimize(headers.ptr());
  }
  state.counters["headers"] = static_cast<double>(head.headers.size());
}
BENCHMARK(BM_HeadersToPython);

void BM_ParseResponseStart(benchmark::State& state) {
  for (auto _ : state) {
    int status = 0;
    Headers headers;
    ParseResponseStart(g_python->response_start, &status, &headers);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(headers.data());
  }
}
BENCHMARK(BM_ParseResponseStart);

void BM_ParseResponseBody(benchmark::State& state) {
  std::string body;
  for (auto _ : state) {
    bool more = ParseResponseBody(g_python->response_body, &body);
    benchmark::DoNotOptimize(more);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ParseResponseBody);

// One request head from the JS side to a scope tuple on the loop side: PushToLoop + Channel::Take.
void BM_ChannelTakeHttpStart(benchmark::State& state) {
  auto bridge = std::make_shared<Bridge>();
  Channel channel(bridge, ChannelOptions{});
  HttpRequestHead head = BrowserHead();
  for (auto _ : state) {
    ToLoop m(ToLoop::Kind::kHttpStart, 1);
    m.head = std::make_unique<HttpRequestHead>(head);
    m.flag = true;
    bridge->PushToLoop(std::move(m));
    py::list taken = channel.Take();
    benchmark::DoNotOptimize(taken.ptr());
  }
}
BENCHMARK(BM_ChannelTakeHttpStart);

// Same thread, no contention: the mutex, the vector swap and (per push onto an empty queue) one
// eventfd write plus one read.
void BM_BridgeToLoopRoundTrip(benchmark::State& state) {
  Bridge bridge;
  for (auto _ : state) {
    ToLoop m(ToLoop::Kind::kHttpBody, 1);
    bridge.PushToLoop(std::move(m));
    std::vector<ToLoop> taken = bridge.TakeForLoop();
    benchmark::DoNotOptimize(taken.data());
  }
}
BENCHMARK(BM_BridgeToLoopRoundTrip);

void BM_BridgeToJsRoundTrip(benchmark::State& state) {
  Bridge bridge;
  int64_t wakes = 0;
  bridge.SetJsWaker([&wakes] { ++wakes; });
  for (auto _ : state) {
    ToJs m(ToJs::Kind::kResponseBody, 1);
    bridge.PushToJs(std::move(m));
    std::vector<ToJs> taken = bridge.TakeForJs();
    benchmark::DoNotOptimize(taken.data());
  }
  bridge.SetJsWaker(nullptr);
  state.counters["wakes_per_iter"] = benchmark::Counter(static_cast<double>(wakes), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_BridgeToJsRoundTrip);

// A burst of 64 messages per take: what batching buys (one wakeup per burst).
void BM_BridgeToLoopBurst64(benchmark::State& state) {
  Bridge bridge;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) bridge.PushToLoop(ToLoop(ToLoop::Kind::kHttpBody, i));
    std::vector<ToLoop> taken = bridge.TakeForLoop();
    benchmark::DoNotOptimize(taken.data());
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_BridgeToLoopBurst64);

void WaitReadable(int fd) {
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, -1) < 0) {
  }
}

// Cross-thread ping-pong through two Bridges' queues: this thread pushes into `ping`, an echo
// thread woken by ping's eventfd takes it and pushes into `pong`, this thread wakes on pong's
// eventfd. One iteration = one round trip with two cross-thread wakeups (the sequential-request
// cost of the real JS ↔ loop path, minus Node and Python).
void BM_CrossThreadPingPong(benchmark::State& state) {
  Bridge ping, pong;
  std::thread echo([&ping, &pong] {
    for (;;) {
      WaitReadable(ping.wakeup_fd());
      for (ToLoop& m : ping.TakeForLoop()) {
        if (m.kind == ToLoop::Kind::kShutdown) return;
        pong.PushToLoop(std::move(m));
      }
    }
  });
  uint64_t id = 0;
  for (auto _ : state) {
    ping.PushToLoop(ToLoop(ToLoop::Kind::kHttpBody, ++id));
    size_t got = 0;
    while (got == 0) {
      WaitReadable(pong.wakeup_fd());
      got = pong.TakeForLoop().size();
    }
  }
  ping.PushToLoop(ToLoop(ToLoop::Kind::kShutdown));
  echo.join();
}
BENCHMARK(BM_CrossThreadPingPong)->Iterations(20000)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  auto interpreter = node_asgi_test::StartEmbeddedPython();
  {
    PythonState python;
    py::dict globals;
    globals["__builtins__"] = py::module_::import("builtins");
    python.response_start = py::eval(
        "{'type': 'http.response.start', 'status': 200, 'headers': ["
        "(b'content-type', b'application/json'), (b'content-length', b'1024'),"
        "(b'cache-control', b'no-store'), (b'set-cookie', b'session=abc; HttpOnly; Path=/'),"
        "(b'x-request-id', b'6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b')]}",
        globals);
    python.response_body =
        py::eval("{'type': 'http.response.body', 'body': b'x' * 1024, 'more_body': False}", globals);
    g_python = &python;
    benchmark::RunSpecifiedBenchmarks();
    g_python = nullptr;
  }
  benchmark::Shutdown();
  return 0;
}
