"""The lifespan protocol, as uvicorn's LifespanOn runs it, with auto/on semantics."""

import asyncio

from .apps import describe
from .cycle import ERROR, INFO


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
