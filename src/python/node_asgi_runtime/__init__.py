"""node-asgi's Python side: runs one ASGI app on this thread's asyncio loop, fed by Node.

Loop thread only. Everything arrives through ``channel.take()`` (woken by an eventfd the loop
watches) and everything leaves through the channel's other methods, which validate the app's
messages in C++ and queue them for Node without ever blocking. Semantics follow the ASGI spec and
uvicorn's policy: an exception before ``http.response.start`` gives a 500, after it the
connection is closed; misordered messages raise RuntimeError naming what was expected.
"""

import asyncio
import functools
import json
import sys

from _node_asgi import BODY, DISCONNECT, DRAINED, HTTP, SHUTDOWN, WS_CONNECT, WS_DISCONNECT, WS_MESSAGE

from .apps import describe, load_app
from .cycle import ERROR
from .http_cycle import HttpCycle
from .lifespan import Lifespan
from .logging_config import configure_logging
from .proxy_headers import ProxyHeadersMiddleware
from .websocket_cycle import WebSocketCycle


def run(channel, settings):
    """Runs the handler's loop until shutdown. Called by the C++ loop thread with the GIL held."""
    # print() and logging reach the terminal (or a cluster primary's pipe) a whole line per write,
    # never cut mid-line by a full block buffer, so that lines from Node and Python never mix.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)
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


class Server:
    """Owns the app, the lifespan state and the live request cycles of one handler."""

    def __init__(self, channel, settings, loop):
        self.channel = channel
        self.settings = settings
        self.extra = json.loads(settings.get("extra") or "{}")  # proxy_headers, forwarded_allow_ips, log_config
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
        # The tasks this batch started or woke run next, then this flush: their responses reach
        # Node one loop iteration sooner than through the flush their first message would schedule.
        channel.flush_soon()

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
            configure_logging(self.extra.get("log_config"))
            app = load_app(self.settings)
            if self.extra.get("proxy_headers"):
                app = ProxyHeadersMiddleware(app, self.extra["forwarded_allow_ips"])
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
