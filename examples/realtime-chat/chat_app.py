"""The realtime-chat example's Python side: a FastAPI app with a small JSON API and the chat WebSocket.

server.js mounts it in Express at /api (GET /api/users, GET /api/health) and hands it the server's
WebSocket upgrades (/ws). node-asgi calls create_app() once per handler (``factory: true``), so every
start() of the server gets a fresh room. The protocol (JSON text frames) is in README.md.
"""

import asyncio
import json
import sys
import time
import unicodedata

from fastapi import FastAPI, HTTPException, Request, WebSocket

MAX_NAME = 24  # characters in a username
MAX_TEXT = 500  # characters in a chat message
MAX_FRAME = 4096  # characters in one text frame; longer frames are refused before parsing
MAX_USERS = 100  # joined users
OUTBOX = 256  # messages queued for one client before it is dropped as too slow
DRAIN_SECONDS = 2  # how long the shutdown notice waits for the outboxes to empty

CLOSE_POLICY = 1008


class ChatError(Exception):
    """Bad input from one client: answered to that client only as {"type": "error", "code", "error"}."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Client:
    """One WebSocket connection: its name once joined, and the queue its writer task sends from."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.name = None
        self.outbox = asyncio.Queue(maxsize=OUTBOX)
        self.dropped = False  # its outbox overflowed; the connection is being closed

    def post(self, payload):
        """Queues one message; a client whose outbox is full is closed (1008), never waited for."""
        if self.dropped:
            return
        try:
            self.outbox.put_nowait(json.dumps(payload))
        except asyncio.QueueFull:
            self.dropped = True
            self.outbox = None
            asyncio.get_running_loop().create_task(self._close_slow())

    async def _close_slow(self):
        try:
            await self.websocket.close(CLOSE_POLICY, "too slow: outgoing queue full")
        except Exception:  # noqa: BLE001 -- it may have gone already
            pass

    async def write(self):
        """The writer task: sends queued messages in order until cancelled or the client is gone."""
        while not self.dropped:
            outbox = self.outbox
            text = await outbox.get()
            try:
                await self.websocket.send_text(text)
            except Exception:  # noqa: BLE001 -- the client went away; the receive loop sees the disconnect
                return
            finally:
                outbox.task_done()

    async def drained(self):
        if not self.dropped:
            await self.outbox.join()


def check_name(value, room):
    if not isinstance(value, str):
        raise ChatError("bad_name", "'name' must be a string")
    name = value.strip()
    if not name:
        raise ChatError("bad_name", "'name' must not be empty")
    if len(name) > MAX_NAME:
        raise ChatError("bad_name", f"'name' is {len(name)} characters; the limit is {MAX_NAME}")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ChatError("bad_name", "'name' must not contain control characters")
    if name.casefold() in room.members:
        raise ChatError("name_taken", f"the name {name!r} is taken by a connected user; choose another")
    return name


def check_text(value):
    if not isinstance(value, str):
        raise ChatError("bad_message", "'text' must be a string")
    text = value.strip()
    if not text:
        raise ChatError("empty_text", "'text' must not be empty")
    if len(text) > MAX_TEXT:
        raise ChatError("text_too_long", f"'text' is {len(text)} characters; the limit is {MAX_TEXT}")
    return text


class Room:
    """Everyone connected to one app: joined members by casefolded name, and every open connection."""

    def __init__(self):
        self.members = {}  # casefolded name -> Client
        self.clients = set()  # every open connection, joined or not
        self.closing = False  # the shutdown notice went out
        self.next_id = 1
        self.started = time.monotonic()

    def names(self):
        return sorted((c.name for c in self.members.values()), key=str.casefold)

    def broadcast(self, payload):
        for client in list(self.members.values()):
            client.post(payload)

    def join(self, client, value):
        if client.name is not None:
            raise ChatError("already_joined", f"already joined as {client.name!r}")
        if self.closing:
            raise ChatError("shutting_down", "the server is shutting down; try again in a moment")
        name = check_name(value, self)
        if len(self.members) >= MAX_USERS:
            raise ChatError("room_full", f"the room is full ({MAX_USERS} users)")
        client.name = name
        self.members[name.casefold()] = client
        client.post({"type": "joined", "name": name, "users": self.names()})
        self.broadcast({"type": "notice", "event": "join", "name": name, "users": self.names(),
                        "text": f"{name} joined"})

    def leave(self, client):
        self.clients.discard(client)
        if client.name is None or self.members.get(client.name.casefold()) is not client:
            return
        del self.members[client.name.casefold()]
        self.broadcast({"type": "notice", "event": "leave", "name": client.name, "users": self.names(),
                        "text": f"{client.name} left"})

    def say(self, client, value):
        if client.name is None:
            raise ChatError("not_joined", "send {\"type\": \"join\", \"name\": ...} before messages")
        text = check_text(value)
        self.broadcast({"type": "message", "id": self.next_id, "from": client.name, "text": text,
                        "time": int(time.time() * 1000)})
        self.next_id += 1

    def handle(self, client, message):
        """One frame from a client; raises ChatError for anything that is not a valid command."""
        text = message.get("text")
        if text is None:
            raise ChatError("binary_frame", "binary frames are not supported; send JSON text frames")
        if len(text) > MAX_FRAME:
            raise ChatError("frame_too_large", f"the frame is {len(text)} characters; the limit is {MAX_FRAME}")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise ChatError("bad_json", f"the frame is not valid JSON: {err}") from None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise ChatError("bad_message", "a message must be a JSON object with a string 'type'")
        kind = data["type"]
        if kind == "join":
            self.join(client, data.get("name"))
        elif kind == "message":
            self.say(client, data.get("text"))
        else:
            raise ChatError("unknown_type", f"unknown message type {kind[:40]!r}; expected 'join' or 'message'")

    async def notify_shutdown(self):
        """Tells every connection the server is going away and waits (briefly) until that is sent."""
        self.closing = True
        notice = {"type": "notice", "event": "shutdown", "text": "the server is shutting down; reconnecting"}
        for client in list(self.clients):
            client.post(notice)
        waits = [client.drained() for client in list(self.clients)]
        if waits:
            try:
                await asyncio.wait_for(asyncio.gather(*waits), DRAIN_SECONDS)
            except asyncio.TimeoutError:
                pass
        return len(waits)


def create_app():
    """A fresh app and room (node-asgi's ``factory``)."""
    app = FastAPI(title="node-asgi realtime chat", docs_url=None, redoc_url=None, openapi_url=None)
    room = Room()
    stats = {"messages_in": 0}

    @app.on_event("shutdown")
    def shutdown():
        # lifespan shutdown: node-asgi awaits it in handler.close(), after the WebSockets are closed
        print(f"realtime-chat: lifespan shutdown (frames received: {stats['messages_in']})", file=sys.stderr, flush=True)

    @app.get("/users")
    def users():
        return {"users": room.names()}

    @app.get("/health")
    def health():
        return {"status": "shutting down" if room.closing else "ok", "users": len(room.members),
                "connections": len(room.clients), "uptime": round(time.monotonic() - room.started, 3)}

    @app.post("/internal/shutdown-notice")
    async def shutdown_notice(request: Request):
        # only server.js's in-process handler.handleRequest() (no client address) may call this
        if request.client is not None:
            raise HTTPException(status_code=404, detail="Not Found")
        return {"notified": await room.notify_shutdown()}

    @app.websocket("/ws")
    async def chat(websocket: WebSocket):
        await websocket.accept()
        client = Client(websocket)
        room.clients.add(client)
        writer = asyncio.get_running_loop().create_task(client.write())
        try:
            while not client.dropped:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                stats["messages_in"] += 1
                try:
                    room.handle(client, message)
                except ChatError as err:
                    client.post({"type": "error", "code": err.code, "error": str(err)})
        finally:
            room.leave(client)
            writer.cancel()

    return app
