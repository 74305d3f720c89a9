"""The WebSocket cycle: the handshake the app answers, then messages both ways."""

import asyncio
import collections

from .cycle import ASGI_HTTP_500, ERROR, Cycle


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
