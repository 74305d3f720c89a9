"""node-asgi's Python side: runs one ASGI app on this thread's asyncio loop, fed by Node.

Loop thread only. Everything arrives through ``channel.take()`` (woken by an eventfd the loop
watches) and everything leaves through the channel's other methods, which validate the app's
messages in C++ and queue them for Node without ever blocking. Semantics follow the ASGI spec and
uvicorn's policy: an exception before ``http.response.start`` gives a 500, after it the
connection is closed; misordered messages raise RuntimeError naming what was expected.
"""

import asyncio
import collections
import functools
import importlib
import inspect
import sys
import traceback

from _node_asgi import BODY, DISCONNECT, DRAINED, HTTP, SHUTDOWN, WS_CONNECT, WS_DISCONNECT, WS_MESSAGE

# Log levels, as Python's logging numbers them; Node maps them to its logger.
DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40

ASGI_HTTP_500 = (
    {
        "type": "http.response.start",
        "status": 500,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"21"),
            (b"connection", b"close"),
        ],
    },
    {"type": "http.response.body", "body": b"Internal Server Error", "more_body": False},
)


def run(channel, settings):
    """Runs the handler's loop until shutdown. Called by the C++ loop thread with the GIL held."""
    loop = new_event_loop(settings["loop"])
    asyncio.set_event_loop(loop)
    server = Server(channel, settings, loop)
    channel.set_flush_scheduler(functools.partial(loop.call_soon, channel.flush))
    try:
        loop.add_reader(channel.fd, server.on_wakeup)
        loop.create_task(server.startup())
        loop.run_forever()
    finally:
        try:
            loop.remove_reader(channel.fd)
            cancel_all_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            channel.set_flush_scheduler(None)
            channel.flush()
            asyncio.set_event_loop(None)
            loop.close()


def new_event_loop(kind):
    if kind == "uvloop":
        import uvloop  # first imported on Python's main thread by the addon

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def cancel_all_tasks(loop):
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def describe(exc):
    """(type name, message, formatted traceback) of an exception, for a PythonError in Node."""
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    tb = "".join(traceback.format_exception(cls, exc, exc.__traceback__))
    return name, str(exc), tb


def load_app(settings):
    """Imports "module:attribute" the way uvicorn does, and adapts ASGI 2 apps."""
    target = settings["app"]
    module_name, _, attrs = target.partition(":")
    if not module_name or not attrs:
        raise ImportError(f'Import string "{target}" must be in format "<module>:<attribute>".')
    app_dir = settings["app_dir"]
    if app_dir and (not sys.path or sys.path[0] != app_dir):
        sys.path.insert(0, app_dir)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise  # the module exists, something it imports does not
        raise ModuleNotFoundError(f'Could not import module "{module_name}".', name=module_name) from None
    app = module
    for attr in attrs.split("."):
        try:
            app = getattr(app, attr)
        except AttributeError:
            raise AttributeError(f'Attribute "{attrs}" not found in module "{module_name}".') from None
    if settings["factory"]:
        if not callable(app):
            raise TypeError(f'The factory "{target}" is not callable.')
        app = app()
    if not callable(app):
        raise TypeError(f'The ASGI app "{target}" is not callable (got {type(app).__name__}).')
    return app if is_asgi3(app) else asgi2_adapter(app)


def is_asgi3(app):
    if inspect.isclass(app):
        return hasattr(app, "__await__")
    if inspect.isfunction(app):
        return asyncio.iscoroutinefunction(app)
    return asyncio.iscoroutinefunction(getattr(app, "__call__", None))


def asgi2_adapter(app):
    async def asgi3(scope, receive, send):
        instance = app(scope)
        await instance(receive, send)

    return asgi3


class Server:
    """Owns the app, the lifespan state and the live request cycles of one handler."""

    def __init__(self, channel, settings, loop):
        self.channel = channel
        self.settings = settings
        self.loop = loop
        self.app = None
        self.state = {}
        self.lifespan = None
        self.cycles = {}
        self.closing = False

    def on_wakeup(self):
        channel = self.channel
        cycles = self.cycles
        for item in channel.take():
            kind = item[0]
            if kind == HTTP:
                self.start_http(item[1], item[2], item[3])
                continue
            if kind == WS_CONNECT:
                self.start_cycle(WebSocketCycle(self, item[1], item[2]))
                continue
            if kind == SHUTDOWN:
                self.loop.create_task(self.shutdown(item[2]))
                continue
            cycle = cycles.get(item[1])
            if cycle is None:
                continue  # the app already returned; late body or disconnect
            if kind == WS_MESSAGE:
                cycle.on_message(item[2], item[3])
            elif kind == BODY:
                cycle.on_body(item[2], item[3], item[4])
            elif kind == DRAINED:
                cycle.on_drained()
            elif kind == WS_DISCONNECT:
                cycle.on_disconnect(item[2], item[3])
            elif kind == DISCONNECT:
                cycle.on_disconnect()

    def start_http(self, cycle_id, scope, body_complete):
        self.start_cycle(HttpCycle(self, cycle_id, scope, body_complete))

    def start_cycle(self, cycle):
        cycle.scope["state"] = self.state.copy()
        self.cycles[cycle.id] = cycle
        cycle.task = self.loop.create_task(cycle.run(self.app))

    def report(self, cycle_id, context, exc):
        name, message, tb = describe(exc)
        self.channel.app_error(cycle_id, name, message, f"{context}\n{tb}")

    def log(self, level, message):
        self.channel.log(level, message)

    async def startup(self):
        try:
            app = load_app(self.settings)
        except BaseException as exc:  # noqa: B902 — any failure to load is reported to Node
            self.channel.start_failed(*describe(exc))
            self.loop.stop()
            return
        if self.settings["lifespan"] != "off":
            self.lifespan = Lifespan(app, self.settings["lifespan"], self.state, self)
            failure = await self.lifespan.startup()
            if failure is not None:
                self.channel.start_failed(*failure)
                self.loop.stop()
                return
        self.app = app
        self.channel.started()

    async def shutdown(self, timeout):
        self.closing = True
        tasks = [c.task for c in self.cycles.values() if not c.task.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            if pending:
                self.log(ERROR, f"Cancel {len(pending)} running task(s), timeout graceful shutdown exceeded")
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending)
        if self.lifespan is not None:
            await self.lifespan.shutdown()
        self.channel.closed()
        self.loop.stop()


class Cycle:
    """What HTTP and WebSocket cycles share: identity, the future receive() waits on, and the
    flow control of send() (wait for Node's drain acknowledgement above the high-water mark)."""

    __slots__ = ("server", "channel", "id", "scope", "task", "waiter", "pending", "drain_waiter")

    def __init__(self, server, cycle_id, scope):
        self.server = server
        self.channel = server.channel
        self.id = cycle_id
        self.scope = scope
        self.task = None
        self.waiter = None  # future receive() waits on
        self.pending = 0  # bytes sent to Node and not yet acknowledged as drained
        self.drain_waiter = None  # future send() waits on while Node's socket is congested

    def on_drained(self):
        waiter = self.drain_waiter
        if waiter is not None:
            self.drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def wake(self):
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self):
        self.waiter = waiter = self.server.loop.create_future()
        try:
            await waiter
        finally:
            if self.waiter is waiter:
                self.waiter = None

    async def sent(self, pending):
        """Records `pending` unacknowledged bytes; above the high-water mark, waits for the drain."""
        if pending > self.channel.response_high_water:
            self.pending = 0
            self.drain_waiter = waiter = self.server.loop.create_future()
            await waiter
        else:
            self.pending = pending


class HttpCycle(Cycle):
    """One HTTP request/response: the app's receive() and send(), and the state between them."""

    __slots__ = (
        "body", "more_body", "body_delivered", "paused", "disconnected", "response_started", "response_complete",
    )

    def __init__(self, server, cycle_id, scope, body_complete):
        super().__init__(server, cycle_id, scope)
        self.body = []  # chunks received from Node, not yet given to the app
        self.more_body = not body_complete
        self.body_delivered = False  # the final http.request message was returned
        self.paused = False  # Node paused the request: tell it to resume when the app wants more
        self.disconnected = False
        self.response_started = False
        self.response_complete = False

    async def run(self, app):
        abort = False
        try:
            await app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            abort = not self.response_complete
        except BaseException as exc:  # noqa: B902 — SystemExit and KeyboardInterrupt must not stop the loop
            self.server.report(self.id, "Exception in ASGI application", exc)
            abort = self.respond_500_or_abort()
        else:
            if self.disconnected:
                abort = not self.response_complete  # nobody to tell: the client left (uvicorn)
            elif not self.response_started:
                self.server.log(ERROR, "ASGI callable returned without starting response.")
                abort = self.respond_500_or_abort()
            elif not self.response_complete:
                self.server.log(ERROR, "ASGI callable returned without completing response.")
                abort = True
        finally:
            del self.server.cycles[self.id]
            self.channel.request_done(self.id, abort)

    def respond_500_or_abort(self):
        """After a failure: a 500 if nothing was sent yet, else abort the connection."""
        if self.response_started or self.disconnected:
            return not self.response_complete
        start, body = ASGI_HTTP_500
        self.channel.response_start(self.id, start)
        self.channel.response_body(self.id, body, 0)
        self.response_started = self.response_complete = True
        return False

    # -- events from Node ---------------------------------------------------------------------

    def on_body(self, chunk, more_body, paused):
        if chunk:
            self.body.append(chunk)
        self.more_body = more_body
        self.paused = paused
        self.wake()

    def on_disconnect(self):
        self.disconnected = True
        self.wake()
        self.on_drained()

    # -- the ASGI callables ---------------------------------------------------------------------

    async def receive(self):
        while not (self.disconnected or self.response_complete):
            if not self.body_delivered and (self.body or not self.more_body):
                break
            if self.paused and not self.body:
                self.paused = False
                self.channel.resume_body(self.id)
            await self.wait()
        if self.disconnected or self.response_complete:
            return {"type": "http.disconnect"}
        body = self.body
        if len(body) == 1:
            data = body[0]
        else:
            data = b"".join(body)
        self.body = []
        if self.more_body:
            if self.paused:
                self.paused = False
                self.channel.resume_body(self.id)
        else:
            self.body_delivered = True
        return {"type": "http.request", "body": data, "more_body": self.more_body}

    async def send(self, message):
        if type(message) is not dict:
            raise TypeError(f"ASGI message must be a dict, got {type(message).__name__}")
        message_type = message.get("type")
        if self.disconnected:
            return  # uvicorn: sends after the client left are dropped
        if not self.response_started:
            if message_type != "http.response.start":
                raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{message_type}'.")
            self.channel.response_start(self.id, message)
            self.response_started = True
        elif not self.response_complete:
            if message_type != "http.response.body":
                raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{message_type}'.")
            pending = self.channel.response_body(self.id, message, self.pending)
            if pending < 0:
                self.response_complete = True
                self.wake()
            else:
                await self.sent(pending)
        else:
            raise RuntimeError(f"Unexpected ASGI message '{message_type}' sent, after response already completed.")


class ClientDisconnected(OSError):
    """Raised by a WebSocket send() once the connection is closed (uvicorn's name for it)."""


class WebSocketCycle(Cycle):
    """One WebSocket connection: the handshake the app answers, then messages both ways."""

    __slots__ = (
        "queue", "connect_delivered", "accepted", "denial_started", "denial_complete", "closed",
        "disconnect_message", "paused",
    )

    def __init__(self, server, cycle_id, scope):
        super().__init__(server, cycle_id, scope)
        self.queue = collections.deque()  # websocket.receive messages not yet received
        self.connect_delivered = False
        self.accepted = False
        self.denial_started = False  # websocket.http.response.start was sent
        self.denial_complete = False
        self.closed = False  # the app sent websocket.close (or its denial response completed)
        self.disconnect_message = None  # set once the connection is gone
        self.paused = False  # Node paused reading: tell it to resume when the queue is drained

    async def run(self, app):
        abort = False
        try:
            await app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            abort = self.denial_started and not self.denial_complete
        except BaseException as exc:  # noqa: B902
            self.server.report(self.id, "Exception in ASGI application", exc)
            abort = self.finish(1011)
        else:
            if not (self.accepted or self.closed or self.denial_started):
                self.server.log(ERROR, "ASGI callable returned without sending handshake.")
            abort = self.finish(1000)
        finally:
            del self.server.cycles[self.id]
            self.channel.request_done(self.id, abort)

    def finish(self, close_code):
        """After the app ended: a 500 if the handshake is unanswered, a close if the socket is open.
        Returns whether the connection must be aborted (a denial response left incomplete)."""
        if self.disconnect_message is not None or self.closed:
            return False
        if self.denial_started:
            return True
        if not self.accepted:
            start, body = ASGI_HTTP_500
            self.channel.response_start(self.id, start, True)
            self.channel.response_body(self.id, {**body, "type": "websocket.http.response.body"}, 0, True)
        else:
            self.channel.ws_close(self.id, {"type": "websocket.close", "code": close_code})
        self.closed = True
        return False

    # -- events from Node ---------------------------------------------------------------------

    def on_message(self, payload, paused):
        if type(payload) is str:
            self.queue.append({"type": "websocket.receive", "text": payload})
        else:
            self.queue.append({"type": "websocket.receive", "bytes": payload})
        self.paused = paused
        self.wake()

    def on_disconnect(self, code, reason):
        if self.disconnect_message is None:
            self.disconnect_message = {"type": "websocket.disconnect", "code": code, "reason": reason}
            self.wake()
        self.on_drained()

    # -- the ASGI callables ---------------------------------------------------------------------

    async def receive(self):
        if not self.connect_delivered:
            self.connect_delivered = True
            return {"type": "websocket.connect"}
        while not self.queue and self.disconnect_message is None:
            if self.paused:
                self.paused = False
                self.channel.resume_body(self.id)
            await self.wait()
        if self.queue:
            message = self.queue.popleft()
            if self.paused and not self.queue:
                self.paused = False
                self.channel.resume_body(self.id)
            return message
        return self.disconnect_message

    async def send(self, message):
        if type(message) is not dict:
            raise TypeError(f"ASGI message must be a dict, got {type(message).__name__}")
        message_type = message.get("type")
        if self.disconnect_message is not None or self.closed:
            raise ClientDisconnected(f"Cannot send '{message_type}': the WebSocket connection is closed.")
        channel = self.channel
        if self.accepted:
            if message_type == "websocket.send":
                await self.sent(channel.ws_send(self.id, message, self.pending))
            elif message_type == "websocket.close":
                channel.ws_close(self.id, message)
                self.closed = True
            else:
                raise RuntimeError(
                    f"Expected ASGI message 'websocket.send' or 'websocket.close', but got '{message_type}'."
                )
        elif self.denial_started:
            if message_type != "websocket.http.response.body":
                raise RuntimeError(f"Expected ASGI message 'websocket.http.response.body', but got '{message_type}'.")
            if channel.response_body(self.id, message, 0, True) < 0:
                self.denial_complete = self.closed = True
        elif message_type == "websocket.accept":
            channel.ws_accept(self.id, message)
            self.accepted = True
        elif message_type == "websocket.close":
            channel.ws_close(self.id, message)
            self.closed = True
        elif message_type == "websocket.http.response.start":
            channel.response_start(self.id, message, True)
            self.denial_started = True
        else:
            raise RuntimeError(
                "Expected ASGI message 'websocket.accept', 'websocket.close' or "
                f"'websocket.http.response.start', but got '{message_type}'."
            )


class Lifespan:
    """The lifespan protocol, as uvicorn's LifespanOn runs it, with auto/on semantics."""

    def __init__(self, app, mode, state, server):
        self.app = app
        self.mode = mode
        self.state = state
        self.server = server
        self.receive_queue = asyncio.Queue()
        self.startup_event = asyncio.Event()
        self.shutdown_event = asyncio.Event()
        self.startup_failed = False
        self.shutdown_failed = False
        self.error_occurred = False
        self.failure = None  # describe()-tuple for start() to reject with
        self.task = None

    async def main(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self.receive, self.send)
        except BaseException as exc:  # noqa: B902
            self.error_occurred = True
            if self.startup_failed or self.shutdown_failed:
                return
            if self.mode == "auto":
                self.server.log(INFO, "ASGI 'lifespan' protocol appears unsupported.")
            else:
                self.server.report(0, "Exception in 'lifespan' protocol", exc)
                self.failure = describe(exc)
        finally:
            self.startup_event.set()
            self.shutdown_event.set()

    async def startup(self):
        """None when the app may serve, else the (type, message, traceback) to fail start() with."""
        self.server.log(INFO, "Waiting for application startup.")
        self.task = asyncio.get_running_loop().create_task(self.main())
        await self.receive_queue.put({"type": "lifespan.startup"})
        await self.startup_event.wait()
        if self.startup_failed or (self.error_occurred and self.mode == "on"):
            self.server.log(ERROR, "Application startup failed. Exiting.")
            return self.failure or ("RuntimeError", "Application startup failed.", "")
        self.server.log(INFO, "Application startup complete.")
        return None

    async def shutdown(self):
        if self.error_occurred:
            return
        self.server.log(INFO, "Waiting for application shutdown.")
        await self.receive_queue.put({"type": "lifespan.shutdown"})
        await self.shutdown_event.wait()
        if self.shutdown_failed or (self.error_occurred and self.mode == "on"):
            self.server.log(ERROR, "Application shutdown failed. Exiting.")
        else:
            self.server.log(INFO, "Application shutdown complete.")

    async def receive(self):
        return await self.receive_queue.get()

    async def send(self, message):
        if type(message) is not dict:
            raise TypeError(f"ASGI message must be a dict, got {type(message).__name__}")
        message_type = message.get("type")
        if message_type == "lifespan.startup.complete":
            self.expect(not self.startup_event.is_set() and not self.shutdown_event.is_set(), message_type)
            self.startup_event.set()
        elif message_type == "lifespan.startup.failed":
            self.expect(not self.startup_event.is_set() and not self.shutdown_event.is_set(), message_type)
            self.startup_failed = True
            text = message.get("message", "")
            self.failure = ("LifespanStartupFailed", text or "Application startup failed.", "")
            if text:
                self.server.log(ERROR, text)
            self.startup_event.set()
        elif message_type == "lifespan.shutdown.complete":
            self.expect(self.startup_event.is_set() and not self.shutdown_event.is_set(), message_type)
            self.shutdown_event.set()
        elif message_type == "lifespan.shutdown.failed":
            self.expect(self.startup_event.is_set() and not self.shutdown_event.is_set(), message_type)
            self.shutdown_failed = True
            if message.get("message"):
                self.server.log(ERROR, message["message"])
            self.shutdown_event.set()
        else:
            raise RuntimeError(f"Unexpected ASGI message '{message_type}' sent during lifespan.")

    @staticmethod
    def expect(condition, message_type):
        if not condition:
            raise RuntimeError(f"Unexpected ASGI message '{message_type}' sent, out of lifespan order.")
