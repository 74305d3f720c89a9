"""The HTTP request/response cycle: the app's receive() and send() for one request."""

import asyncio

from .cycle import ASGI_HTTP_500, ERROR, Cycle


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
