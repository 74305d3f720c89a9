"""The msgpack-tunnel ASGI app (raw ASGI): WebSocket tunnels at /tunnel, GET /health, and the
settings (TUNNEL_TOKENS, TUNNEL_AUTH_TIMEOUT) read at lifespan startup."""

import asyncio
import json
import os

from tunnel_registry import Registry
from tunnel_session import Session

TUNNEL_PATH = "/tunnel"


class SettingsError(ValueError):
    """A setting from the environment is missing or invalid; the message names it."""


class Settings:
    def __init__(self, environ):
        self.tokens = [t.strip().encode("utf-8") for t in environ.get("TUNNEL_TOKENS", "").split(",") if t.strip()]
        if not self.tokens:
            raise SettingsError("TUNNEL_TOKENS is not set: give the accepted tokens, comma-separated")
        text = environ.get("TUNNEL_AUTH_TIMEOUT", "10")
        try:
            self.auth_timeout = float(text)
        except ValueError:
            self.auth_timeout = -1.0
        if not 0 < self.auth_timeout < 3600:
            raise SettingsError(f"TUNNEL_AUTH_TIMEOUT must be seconds between 0 and 3600, got {text!r}")


class Service:
    """What every connection shares: the settings, the tunnels, and the open sessions."""

    def __init__(self, settings):
        self.settings = settings
        self.registry = Registry()
        self.sessions = set()
        self.tasks = set()  # background closes (auth timeouts), kept referenced until done

    def spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def health(self):
        return {"status": "ok", "connections": len(self.sessions), "tunnels": self.registry.counts()}


service = None  # set at lifespan startup, or on first use when the server runs without lifespan


def get_service():
    global service
    if service is None:
        service = Service(Settings(os.environ))
    return service


async def lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                get_service()
            except SettingsError as err:
                await send({"type": "lifespan.startup.failed", "message": str(err)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def http(scope, receive, send):
    if scope["method"] in ("GET", "HEAD") and scope["path"] == "/health":
        status, body, content_type = 200, json.dumps(get_service().health()).encode(), b"application/json"
    else:
        status, content_type = 404, b"text/plain; charset=utf-8"
        body = f"Not Found: WebSocket {TUNNEL_PATH}, or GET /health\n".encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def websocket(scope, receive, send):
    await receive()  # websocket.connect
    if scope["path"] != TUNNEL_PATH:
        await send({"type": "websocket.close", "code": 1008})  # handshake refused: 403
        return
    current = get_service()
    await send({"type": "websocket.accept"})
    session = Session(send, current)
    current.sessions.add(session)
    try:
        await session.run(receive)
    finally:
        current.sessions.discard(session)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] == "http":
        await http(scope, receive, send)
    elif scope["type"] == "websocket":
        await websocket(scope, receive, send)
