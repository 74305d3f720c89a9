// Channel: the loop thread's side of a Bridge as the Python runtime sees it (`_node_asgi.Channel`):
// take() tuples, and validated app messages queued for JS with backpressure flags.
#include "channel.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <memory>
#include <string>
#include <vector>

#include "python_test_env.h"

namespace {

namespace py = pybind11;
using node_asgi::Bridge;
using node_asgi::Channel;
using node_asgi::ChannelOptions;
using node_asgi::HttpRequestHead;
using node_asgi::ToJs;
using node_asgi::ToLoop;
using node_asgi_test::Eval;

std::string Repr(py::handle o) { return py::repr(o).cast<std::string>(); }

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = std::make_shared<Bridge>();
    ChannelOptions options;
    options.response_high_water = 16;
    channel_ = std::make_shared<Channel>(bridge_, options);
  }

  static std::unique_ptr<HttpRequestHead> Head(const char* target) {
    auto head = std::make_unique<HttpRequestHead>();
    head->method = "GET";
    head->scheme = "http";
    head->http_version = "1.1";
    head->target = target;
    head->headers = {{"Host", "example.com"}, {"Sec-WebSocket-Protocol", "chat, superchat"}};
    return head;
  }

  // The channel as the Python runtime holds it.
  py::object PythonChannel() {
    py::module_::import("_node_asgi");  // registers the Channel class
    return py::cast(channel_);
  }

  // Runs `code` with `channel` and `error_of(call)` ("Type: first arg" of what call() raised, or
  // None) defined; returns its globals.
  py::dict RunWithChannel(const char* code) {
    py::dict globals;
    globals["__builtins__"] = py::module_::import("builtins");
    globals["channel"] = PythonChannel();
    py::exec(R"(
def error_of(call):
    try:
        call()
    except Exception as e:
        return type(e).__name__ + ': ' + str(e.args[0] if e.args else '')
    return None
)",
             globals);
    py::exec(code, globals);
    return globals;
  }

  std::shared_ptr<Bridge> bridge_;
  std::shared_ptr<Channel> channel_;
};

TEST_F(ChannelTest, EmbeddedModuleExposesTheTakeKinds) {
  py::module_ m = py::module_::import("_node_asgi");
  EXPECT_EQ(m.attr("HTTP").cast<int>(), Channel::kHttp);
  EXPECT_EQ(m.attr("BODY").cast<int>(), Channel::kBody);
  EXPECT_EQ(m.attr("DISCONNECT").cast<int>(), Channel::kDisconnect);
  EXPECT_EQ(m.attr("DRAINED").cast<int>(), Channel::kDrained);
  EXPECT_EQ(m.attr("SHUTDOWN").cast<int>(), Channel::kShutdown);
  EXPECT_EQ(m.attr("WS_CONNECT").cast<int>(), Channel::kWsConnect);
  EXPECT_EQ(m.attr("WS_MESSAGE").cast<int>(), Channel::kWsMessage);
  EXPECT_EQ(m.attr("WS_DISCONNECT").cast<int>(), Channel::kWsDisconnect);
  EXPECT_TRUE(py::hasattr(m, "Channel"));
}

TEST_F(ChannelTest, FdIsTheBridgeWakeupFd) {
  EXPECT_EQ(channel_->fd(), bridge_->wakeup_fd());
  EXPECT_EQ(PythonChannel().attr("fd").cast<int>(), bridge_->wakeup_fd());
  EXPECT_EQ(PythonChannel().attr("response_high_water").cast<int64_t>(), 16);
}

TEST_F(ChannelTest, TakeTurnsHttpMessagesIntoTuplesInOrder) {
  ToLoop start(ToLoop::Kind::kHttpStart, 1);
  start.head = Head("/p?q=1");
  start.flag = false;  // a body follows
  bridge_->PushToLoop(std::move(start));
  ToLoop body(ToLoop::Kind::kHttpBody, 1);
  body.bytes = std::string("ab\0c", 4);
  body.flag = true;
  body.flag2 = true;
  bridge_->PushToLoop(std::move(body));
  bridge_->PushToLoop(ToLoop(ToLoop::Kind::kHttpDrained, 1));
  bridge_->PushToLoop(ToLoop(ToLoop::Kind::kHttpDisconnect, 1));

  py::list taken = channel_->Take();
  ASSERT_EQ(taken.size(), 4u);
  py::tuple http = taken[0];
  ASSERT_EQ(http.size(), 4u);
  EXPECT_EQ(http[0].cast<int>(), Channel::kHttp);
  EXPECT_EQ(http[1].cast<uint64_t>(), 1u);
  py::dict scope = http[2];
  EXPECT_EQ(scope["type"].cast<std::string>(), "http");
  EXPECT_EQ(scope["method"].cast<std::string>(), "GET");
  EXPECT_EQ(scope["path"].cast<std::string>(), "/p");
  EXPECT_EQ(Repr(scope["query_string"]), "b'q=1'");
  EXPECT_EQ(Repr(http[3]), "False");
  EXPECT_EQ(Repr(taken[1]), "(1, 1, b'ab\\x00c', True, True)");
  EXPECT_EQ(Repr(taken[2]), "(3, 1)");
  EXPECT_EQ(Repr(taken[3]), "(2, 1)");
}

TEST_F(ChannelTest, TakeDrainsTheQueueAndClearsTheWakeup) {
  bridge_->PushToLoop(ToLoop(ToLoop::Kind::kHttpDisconnect, 9));
  EXPECT_EQ(channel_->Take().size(), 1u);
  pollfd p{channel_->fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);
  EXPECT_EQ(channel_->Take().size(), 0u);
}

TEST_F(ChannelTest, TakeReportsABodylessRequestAsComplete) {
  ToLoop start(ToLoop::Kind::kHttpStart, 2);
  start.head = Head("/");
  start.flag = true;
  bridge_->PushToLoop(std::move(start));
  py::list taken = channel_->Take();
  EXPECT_EQ(Repr(py::tuple(taken[0])[3]), "True");
}

TEST_F(ChannelTest, TakeTurnsShutdownIntoATimeoutOrNone) {
  ToLoop graceful(ToLoop::Kind::kShutdown);
  graceful.number = 2.5;
  bridge_->PushToLoop(std::move(graceful));
  ToLoop forever(ToLoop::Kind::kShutdown);
  forever.number = -1;
  bridge_->PushToLoop(std::move(forever));
  py::list taken = channel_->Take();
  EXPECT_EQ(Repr(taken[0]), "(4, 0, 2.5)");
  EXPECT_EQ(Repr(taken[1]), "(4, 0, None)");
}

TEST_F(ChannelTest, TakeTurnsWebSocketMessagesIntoTuples) {
  ToLoop connect(ToLoop::Kind::kWsConnect, 5);
  connect.head = Head("/ws?room=1");
  connect.head->scheme = "wss";
  bridge_->PushToLoop(std::move(connect));
  ToLoop text(ToLoop::Kind::kWsMessage, 5);
  text.bytes = "h\xC3\xA9 \xFF";  // invalid UTF-8 byte becomes U+FFFD
  text.flag = true;
  bridge_->PushToLoop(std::move(text));
  ToLoop binary(ToLoop::Kind::kWsMessage, 5);
  binary.bytes = "\x01\x02";
  binary.flag2 = true;
  bridge_->PushToLoop(std::move(binary));
  ToLoop gone(ToLoop::Kind::kWsDisconnect, 5);
  gone.number = 1001;
  gone.bytes = "bye";
  bridge_->PushToLoop(std::move(gone));

  py::list taken = channel_->Take();
  ASSERT_EQ(taken.size(), 4u);
  py::tuple ws = taken[0];
  ASSERT_EQ(ws.size(), 3u);
  EXPECT_EQ(ws[0].cast<int>(), Channel::kWsConnect);
  py::dict scope = ws[2];
  EXPECT_EQ(scope["type"].cast<std::string>(), "websocket");
  EXPECT_EQ(scope["scheme"].cast<std::string>(), "wss");
  EXPECT_FALSE(scope.contains("method"));
  EXPECT_EQ(Repr(scope["subprotocols"]), "['chat', 'superchat']");
  EXPECT_EQ(Repr(scope["extensions"]), "{'websocket.http.response': {}}");
  EXPECT_EQ(Repr(taken[1]), "(6, 5, 'h\xC3\xA9 \xEF\xBF\xBD', False)");  // U+FFFD
  EXPECT_EQ(Repr(taken[2]), "(6, 5, b'\\x01\\x02', True)");
  EXPECT_EQ(Repr(taken[3]), "(7, 5, 1001, 'bye')");
}

TEST_F(ChannelTest, TakeIsCallableFromPython) {
  bridge_->PushToLoop(ToLoop(ToLoop::Kind::kHttpDrained, 3));
  EXPECT_EQ(Repr(PythonChannel().attr("take")()), "[(3, 3)]");
}

TEST_F(ChannelTest, ResponseStartQueuesStatusAndHeadersForJs) {
  channel_->ResponseStart(4, Eval("{'type': 'http.response.start', 'status': 404, 'headers': [(b'a', b'b')]}"),
                          false);
  std::vector<ToJs> out = bridge_->TakeForJs();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, ToJs::Kind::kResponseStart);
  EXPECT_EQ(out[0].id, 4u);
  EXPECT_EQ(out[0].status, 404);
  ASSERT_EQ(out[0].headers.size(), 1u);
  EXPECT_EQ(out[0].headers[0].first, "a");
}

TEST_F(ChannelTest, InvalidResponseStartRaisesInPythonAndQueuesNothing) {
  py::dict globals = RunWithChannel(R"(
value = error_of(lambda: channel.response_start(1, {'status': 200, 'headers': [(b'x', b'a\r\nb')]}))
missing = error_of(lambda: channel.response_start(1, {}, True))
body = error_of(lambda: channel.response_body(1, {'body': 'str'}, 0))
)");
  EXPECT_EQ(globals["value"].cast<std::string>(), "RuntimeError: Invalid HTTP header value.");
  EXPECT_EQ(globals["missing"].cast<std::string>(),
            "KeyError: ASGI 'websocket.http.response.start' message is missing 'status'");
  EXPECT_EQ(globals["body"].cast<std::string>(),
            "TypeError: ASGI 'http.response.body' message 'body' must be bytes, got str");
  EXPECT_TRUE(bridge_->TakeForJs().empty());
}

TEST_F(ChannelTest, FastMethodsCheckTheirArgumentsAndReturnValues) {
  py::dict globals = RunWithChannel(R"(
arity = error_of(lambda: channel.request_done(1))
too_many = error_of(lambda: channel.take(1))
bad_id = error_of(lambda: channel.resume_body('7'))
negative_id = error_of(lambda: channel.request_done(-1, False))
bad_pending = error_of(lambda: channel.response_body(1, {'body': b'x', 'more_body': True}, None))
pending = channel.response_body(2, {'body': b'abc', 'more_body': True}, 5)
done = channel.response_body(2, {'body': b''}, 8)
started = channel.response_start(3, {'status': 204}, False)
flushed = channel.flush()
)");
  EXPECT_EQ(globals["arity"].cast<std::string>(), "TypeError: Channel.request_done() takes 2 positional arguments (1 given)");
  EXPECT_EQ(globals["too_many"].cast<std::string>(), "TypeError: Channel.take() takes 0 positional arguments (1 given)");
  EXPECT_EQ(globals["bad_id"].cast<std::string>().rfind("TypeError: ", 0), 0u) << globals["bad_id"].cast<std::string>();
  EXPECT_EQ(globals["negative_id"].cast<std::string>().rfind("OverflowError: ", 0), 0u)
      << globals["negative_id"].cast<std::string>();
  EXPECT_EQ(globals["bad_pending"].cast<std::string>().rfind("TypeError: ", 0), 0u);
  EXPECT_EQ(globals["pending"].cast<int64_t>(), 8);
  EXPECT_EQ(globals["done"].cast<int64_t>(), -1);
  EXPECT_TRUE(globals["started"].is_none());
  EXPECT_TRUE(globals["flushed"].is_none());
  std::vector<ToJs> out = bridge_->TakeForJs();
  ASSERT_EQ(out.size(), 3u) << "only the valid calls queue messages";
  EXPECT_EQ(out[0].kind, ToJs::Kind::kResponseBody);
  EXPECT_EQ(out[0].bytes, "abc");
  EXPECT_EQ(out[2].kind, ToJs::Kind::kResponseStart);
  EXPECT_EQ(out[2].status, 204);
}

TEST_F(ChannelTest, ResponseBodyReturnsPendingBytesAndAsksForDrainAboveHighWater) {
  // high water is 16 bytes
  int64_t pending = channel_->ResponseBody(1, Eval("{'body': b'0123456789', 'more_body': True}"), 0, false);
  EXPECT_EQ(pending, 10);
  pending = channel_->ResponseBody(1, Eval("{'body': bytearray(b'012345'), 'more_body': True}"), pending, false);
  EXPECT_EQ(pending, 16);  // at the mark, not above it
  pending = channel_->ResponseBody(1, Eval("{'body': memoryview(b'x'), 'more_body': True}"), pending, false);
  EXPECT_EQ(pending, 17);
  int64_t done = channel_->ResponseBody(1, Eval("{'body': b'last' * 10, 'more_body': False}"), pending, false);
  EXPECT_EQ(done, -1);

  std::vector<ToJs> out = bridge_->TakeForJs();
  ASSERT_EQ(out.size(), 4u);
  for (const ToJs& m : out) EXPECT_EQ(m.kind, ToJs::Kind::kResponseBody);
  EXPECT_EQ(out[0].bytes, "0123456789");
  EXPECT_TRUE(out[0].flag);
  EXPECT_FALSE(out[0].flag2);
  EXPECT_EQ(out[1].bytes, "012345");
  EXPECT_FALSE(out[1].flag2);
  EXPECT_EQ(out[2].bytes, "x");
  EXPECT_TRUE(out[2].flag2) << "above the high-water mark the app must wait for a drain";
  EXPECT_FALSE(out[3].flag) << "more_body false ends the response";
  EXPECT_FALSE(out[3].flag2) << "the last body never waits for a drain";
}

TEST_F(ChannelTest, ResponseBodyFromPythonUsesKeywordDefaults) {
  py::object result = PythonChannel().attr("response_body")(7, Eval("{'body': b'abc', 'more_body': True}"), 5);
  EXPECT_EQ(result.cast<int64_t>(), 8);
  std::vector<ToJs> out = bridge_->TakeForJs();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 7u);
}

TEST_F(ChannelTest, WsSendCountsPendingBytesAndAsksForDrainAboveHighWater) {
  int64_t pending = channel_->WsSend(2, Eval("{'type': 'websocket.send', 'text': 'h\\u00e9llo'}"), 0);
  EXPECT_EQ(pending, 6);  // UTF-8 bytes
  pending = channel_->WsSend(2, Eval("{'type': 'websocket.send', 'bytes': b'0123456789ab'}"), pending);
  EXPECT_EQ(pending, 18);
  std::vector<ToJs> out = bridge_->TakeForJs();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].flag);  // text
  EXPECT_EQ(out[0].bytes, "h\xC3\xA9llo");
  EXPECT_FALSE(out[0].flag2);
  EXPECT_FALSE(out[1].flag);  // binary
  EXPECT_TRUE(out[1].flag2);
}

TEST_F(ChannelTest, WithoutAFlushSchedulerEveryMessageWakesJsAtOnce) {
  int wakes = 0;
  bridge_->SetJsWaker([&wakes] { ++wakes; });
  channel_->ResumeBody(1);
  EXPECT_EQ(wakes, 1);
  bridge_->TakeForJs();
  channel_->ResumeBody(1);
  EXPECT_EQ(wakes, 2);
  bridge_->SetJsWaker(nullptr);
}

TEST_F(ChannelTest, FlushSoonSchedulesOneFlushThatLaterMessagesShare) {
  int wakes = 0;
  bridge_->SetJsWaker([&wakes] { ++wakes; });
  py::object channel = PythonChannel();
  channel.attr("flush_soon")();  // no scheduler yet: nothing to do
  py::list scheduled;
  py::dict globals;
  globals["__builtins__"] = py::module_::import("builtins");
  globals["calls"] = scheduled;
  channel.attr("set_flush_scheduler")(py::eval("lambda: calls.append('flush-scheduled')", globals));
  channel.attr("flush_soon")();
  channel.attr("flush_soon")();
  EXPECT_EQ(py::len(scheduled), 1u) << "one flush arranged";
  channel.attr("response_start")(1, Eval("{'status': 200}"));
  channel.attr("request_done")(1, false);
  EXPECT_EQ(py::len(scheduled), 1u) << "the messages ride on the arranged flush";
  EXPECT_EQ(wakes, 0);
  channel.attr("flush")();
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(bridge_->TakeForJs().size(), 2u);
  channel.attr("set_flush_scheduler")(py::none());
  bridge_->SetJsWaker(nullptr);
}

TEST_F(ChannelTest, FlushSchedulerIsCalledOncePerBatchAndJsIsWokenOnlyOnFlush) {
  int wakes = 0;
  bridge_->SetJsWaker([&wakes] { ++wakes; });
  py::list scheduled;
  py::object channel = PythonChannel();
  // A scheduler receives nothing: it arranges a later channel.flush() (loop.call_soon in the runtime).
  py::dict globals;
  globals["__builtins__"] = py::module_::import("builtins");
  globals["calls"] = scheduled;
  py::object scheduler = py::eval("lambda: calls.append('flush-scheduled')", globals);
  channel.attr("set_flush_scheduler")(scheduler);

  channel.attr("response_start")(1, Eval("{'status': 200}"));
  channel.attr("response_body")(1, Eval("{'body': b'x'}"), 0);
  channel.attr("request_done")(1, false);
  EXPECT_EQ(py::len(scheduled), 1u) << "one flush per batch";
  EXPECT_EQ(wakes, 0) << "nothing wakes JS before the flush";
  channel.attr("flush")();
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(bridge_->TakeForJs().size(), 3u);

  channel_->ResumeBody(2);
  EXPECT_EQ(py::len(scheduled), 2u) << "the next batch schedules again";
  channel.attr("set_flush_scheduler")(py::none());  // back to waking per message
  channel_->Flush();
  EXPECT_EQ(wakes, 2);
  bridge_->TakeForJs();
  channel_->ResumeBody(3);
  EXPECT_EQ(wakes, 3);
  bridge_->SetJsWaker(nullptr);
}

TEST_F(ChannelTest, LifecycleCallsQueueTheirMessages) {
  channel_->Started();
  channel_->ResumeBody(3);
  channel_->RequestDone(3, true);
  channel_->AppError(3, "ValueError", "boom", "Traceback...");
  channel_->Log(30, "careful");
  channel_->Closed();
  std::vector<ToJs> out = bridge_->TakeForJs();
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].kind, ToJs::Kind::kStarted);
  EXPECT_EQ(out[1].kind, ToJs::Kind::kResumeBody);
  EXPECT_EQ(out[1].id, 3u);
  EXPECT_EQ(out[2].kind, ToJs::Kind::kRequestDone);
  EXPECT_TRUE(out[2].flag);
  EXPECT_EQ(out[3].kind, ToJs::Kind::kAppError);
  ASSERT_NE(out[3].error, nullptr);
  EXPECT_EQ(out[3].error->type, "ValueError");
  EXPECT_EQ(out[3].error->message, "boom");
  EXPECT_EQ(out[4].kind, ToJs::Kind::kLog);
  EXPECT_EQ(out[4].number, 30);
  EXPECT_EQ(out[4].bytes, "careful");
  EXPECT_EQ(out[5].kind, ToJs::Kind::kClosed);
}

}  // namespace
