"""One WebSocket connection to the tunnel: authenticate, open or join a tunnel, forward 'data' frames
to the other end, and close the other end when this one goes."""

import asyncio
import hmac

from tunnel_frames import (
    PEER_LEFT, POLICY_VIOLATION, FrameError, close_reason, decode, encode,
)
from tunnel_registry import JoinError


class Session:
    """A connection's state. Loop thread only. Sends go through `lock` so that messages from this
    connection's task and from its peer's task (forwarded data) keep their order and never overlap
    (node-asgi's send() must not be awaited by two tasks at once on a congested connection: one of
    them would wait forever)."""

    def __init__(self, send, service):
        self._send = send
        self.service = service
        self.lock = asyncio.Lock()
        self.authenticated = False
        self.tunnel = None  # the Tunnel this connection opened or joined
        self.peer = None  # the other end's Session once paired
        self.closed = False  # this side sent a close, or the client is gone
        self.close_code = None  # why this connection ended (ours or the client's code)
        self.timer = None

    async def send(self, message_type, **fields):
        """Sends a server message; returns False (and sends nothing) once the connection is closed."""
        async with self.lock:
            if self.closed:
                return False
            try:
                # waits while the client's socket is congested: forwarding is paced by the reader
                await self._send({"type": "websocket.send", "bytes": encode(message_type, **fields)})
            except OSError:  # node-asgi's ClientDisconnected: the client went away meanwhile
                self.closed = True
                return False
            return True

    async def close(self, code, reason):
        """Closes the connection with `code` and `reason` (once). Not under `lock`: a close must not
        wait behind a send stuck on a client that does not read; the close follows what was sent."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": close_reason(reason)})
        except OSError:
            pass

    async def run(self, receive):
        """Serves the connection after the handshake until the client is gone or this side closed it."""
        loop = asyncio.get_running_loop()
        timeout = self.service.settings.auth_timeout
        self.timer = loop.call_later(timeout, self.auth_expired, timeout)
        try:
            while not self.closed:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    self.closed = True
                    self.close_code = self.close_code or message.get("code", 1005)
                    return
                try:
                    await self.handle(*decode(message))
                except FrameError as err:
                    await self.close(err.code, str(err))
        finally:
            self.timer.cancel()
            await self.leave()

    def auth_expired(self, timeout):
        if not self.authenticated and not self.closed:
            self.service.spawn(self.close(POLICY_VIOLATION, f"no 'auth' message within {timeout:g} s"))

    async def leave(self):
        """Removes this connection's tunnel and closes the other end (once, whichever end leaves first)."""
        tunnel = self.tunnel
        if tunnel is None or not self.service.registry.leave(tunnel):
            return
        for end in tunnel.ends:
            if end is not self:
                await end.close(PEER_LEFT, f"peer left the tunnel (close code {self.close_code})")

    async def handle(self, message_type, frame):
        if not self.authenticated:
            if message_type != "auth":
                raise FrameError(POLICY_VIOLATION, f"authenticate first: expected 'auth', got '{message_type}'")
            await self.authenticate(frame["token"])
        elif message_type == "data":
            await self.forward(frame["payload"])
        elif message_type == "auth":
            raise FrameError(POLICY_VIOLATION, "'auth' again: this connection is already authenticated")
        elif self.tunnel is not None:
            raise FrameError(POLICY_VIOLATION, f"'{message_type}' while already in tunnel {self.tunnel.id!r}")
        elif message_type == "open":
            self.tunnel = self.service.registry.open(self)
            await self.send("opened", tunnel=self.tunnel.id)
        else:
            await self.join(frame["tunnel"])

    async def authenticate(self, token):
        given = token.encode("utf-8")
        if not any(hmac.compare_digest(given, known) for known in self.service.settings.tokens):
            raise FrameError(POLICY_VIOLATION, "authentication failed: unknown token")
        self.authenticated = True
        self.timer.cancel()
        await self.send("authenticated")

    async def join(self, tunnel_id):
        try:
            tunnel = self.service.registry.join(tunnel_id, self)
        except JoinError as err:  # not fatal: the client may try another id
            await self.send("error", error=err.error, message=str(err))
            return
        self.tunnel = tunnel
        opener = tunnel.ends[0]
        self.peer, opener.peer = opener, self
        await opener.send("paired", tunnel=tunnel.id)
        await self.send("paired", tunnel=tunnel.id)

    async def forward(self, payload):
        if self.peer is not None:
            # Awaited: this connection's next frame is not read until the peer's socket took this
            # one, so a fast sender is slowed to its reader's pace (node-asgi pauses reading after
            # --ws-max-queue unreceived messages). False: the peer is gone; its task closes us.
            await self.peer.send("data", payload=payload)
        elif self.tunnel is not None:
            raise FrameError(POLICY_VIOLATION, f"'data' before a peer joined tunnel {self.tunnel.id!r}")
        else:
            raise FrameError(POLICY_VIOLATION, "'data' outside a tunnel: send 'open' or 'join' first")
