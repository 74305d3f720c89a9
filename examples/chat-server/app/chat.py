"""The chat server's state: clients, rooms, statuses, limits and message delivery (asyncio loop only).

Every method runs on the app's event loop and never awaits while it changes state, so each
command is applied whole before the next one starts. Delivery goes through each connection's
bounded outbox (see connection.py): a slow or broken client never blocks another.
"""

import collections
import enum
import re
import time

MAX_CLIENTS = 100  # registered clients, whatever their status, until they are removed
MAX_MESSAGE_LENGTH = 255  # characters (Unicode code points); longer messages are refused whole
MAX_HELD = 50  # messages kept for a SUSPENDED client; older ones are dropped (and counted)
MAX_CONNECTIONS = 2 * MAX_CLIENTS  # open WebSockets, identified or not
ID_PATTERN = r"^[A-Za-z0-9_.-]{1,32}$"
_ID = re.compile(ID_PATTERN)


class Status(str, enum.Enum):
    NEW = "NEW"  # registered (NEW or POST /clients/register); no connection
    CONNECTED = "CONNECTED"  # a WebSocket said HELLO as this client; receives its room's messages
    ACTIVE = "ACTIVE"  # joined a room (JOIN) or sent a message
    SUSPENDED = "SUSPENDED"  # paused: messages are held until it resumes
    ERROR = "ERROR"  # its connection was lost or failed; removed right after
    CLOSING = "CLOSING"  # QUIT or POST /clients/close: its connection is being closed
    CLOSED = "CLOSED"  # gone; no longer listed


RECEIVING = (Status.CONNECTED, Status.ACTIVE)
LISTED = (Status.NEW, Status.CONNECTED, Status.ACTIVE, Status.SUSPENDED)  # statuses of listed clients


class ChatError(Exception):
    """A refused command: `reason` is what the client is told; `http_status` is for REST."""

    def __init__(self, reason, http_status=409):
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


def shown(value, limit=40):
    """`value` quoted for an error line, cut to `limit` characters (errors never echo a whole flood)."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."


def check_id(kind, value):
    """Returns `value` if it is a valid room name or client id, else raises ChatError naming it."""
    if not _ID.match(value):
        raise ChatError(f"{kind} must be 1-32 letters, digits, '_', '-' or '.', got {shown(value)}", 422)
    return value


def check_message(text):
    """Returns `text` if it may be sent: 1 to MAX_MESSAGE_LENGTH characters. Never truncates."""
    if not text:
        raise ChatError("message is empty", 422)
    if len(text) > MAX_MESSAGE_LENGTH:
        raise ChatError(
            f"message is {len(text)} characters; the limit is {MAX_MESSAGE_LENGTH} (nothing was sent)", 422
        )
    return text


class Client:
    __slots__ = ("id", "room", "status", "connection", "held", "dropped", "resume_status")

    def __init__(self, client_id, room):
        self.id = client_id
        self.room = room
        self.status = Status.NEW
        self.connection = None  # the Connection bound by HELLO/JOIN, if any
        self.held = collections.deque(maxlen=MAX_HELD)  # lines kept while SUSPENDED
        self.dropped = 0  # held lines pushed out by newer ones since the pause
        self.resume_status = None  # the status a SUSPENDED client returns to

    def describe(self):
        return {"client_id": self.id, "room": self.room, "status": self.status.value}


class ChatServer:
    """Clients by id, rooms by name (a room exists while it has members), counters."""

    def __init__(self):
        self.clients = {}
        self.rooms = {}  # room name -> {client id: None} (insertion-ordered members)
        self.room_messages = {}  # room name -> messages sent to it (dropped with the room)
        self.connections = set()
        self.messages = 0
        self.closed = 0
        self.errored = 0
        self.started = time.monotonic()

    # -- clients ------------------------------------------------------------------------------

    def get(self, client_id):
        client = self.clients.get(client_id)
        if client is None:
            raise ChatError(f"unknown client {client_id!r}", 404)
        return client

    def register(self, room, client_id):
        """NEW room:client_id and POST /clients/register: a client without a connection."""
        check_id("room", room)
        check_id("client_id", client_id)
        if client_id in self.clients:
            raise ChatError(f"client {client_id!r} already exists", 409)
        if len(self.clients) >= MAX_CLIENTS:
            raise ChatError(f"server full: {MAX_CLIENTS} clients is the limit", 503)
        client = Client(client_id, room)
        self.clients[client_id] = client
        self._enter(client, room)
        return client

    def hello(self, connection, room, client_id):
        """HELLO room:client_id: this connection becomes the client (created if need be)."""
        check_id("room", room)
        check_id("client_id", client_id)
        if connection.client is not None and connection.client.id != client_id:
            raise ChatError(f"this connection is already client {connection.client.id!r}")
        client = self.clients.get(client_id)
        if client is None:
            client = self.register(room, client_id)
        self._bind(connection, client)
        self._enter(client, room)
        if client.status is Status.NEW:
            client.status = Status.CONNECTED
        return client

    def join(self, connection, room, client_id):
        """JOIN room:client_id: the client (this connection's, or an unbound NEW one) joins room."""
        check_id("room", room)
        check_id("client_id", client_id)
        client = self.get(client_id)
        self._bind(connection, client)
        self._enter(client, room)
        client.status = Status.ACTIVE
        return client

    def _bind(self, connection, client):
        if connection.client is client:
            return
        if connection.client is not None:
            raise ChatError(f"this connection is already client {connection.client.id!r}")
        if client.connection is not None:
            raise ChatError(f"client {client.id!r} is connected on another connection")
        if client.status is not Status.NEW:
            raise ChatError(f"client {client.id!r} is {client.status.value}")
        client.connection = connection
        connection.client = client

    def _enter(self, client, room):
        if client.room == room and client.id in self.rooms.get(room, ()):
            return
        self._leave(client)
        client.room = room
        self.rooms.setdefault(room, {})[client.id] = None
        self.room_messages.setdefault(room, 0)

    def _leave(self, client):
        members = self.rooms.get(client.room)
        if members is not None:
            members.pop(client.id, None)
            if not members:
                del self.rooms[client.room]
                del self.room_messages[client.room]

    def owned(self, connection, client_id):
        """The client `client_id` if this connection is it, else ChatError."""
        check_id("client_id", client_id)
        client = self.get(client_id)
        if client.connection is not connection:
            raise ChatError(f"client {client_id!r} is not this connection's client")
        return client

    # -- messages -----------------------------------------------------------------------------

    def send(self, sender, room, text):
        """Delivers `text` from `sender` to the other members of `room`. Returns (delivered, held)."""
        check_id("room", room)
        check_message(text)
        if room not in self.rooms:
            raise ChatError(f"unknown room {room!r}", 404)
        if sender.room != room:
            raise ChatError(f"client {sender.id!r} is not in room {room!r} (it is in {sender.room!r})")
        if sender.status not in (Status.NEW, Status.CONNECTED, Status.ACTIVE, Status.SUSPENDED):
            raise ChatError(f"client {sender.id!r} is {sender.status.value}")
        line = f"MSG {room}:{sender.id} {text}"
        delivered = held = 0
        for member_id in list(self.rooms[room]):
            member = self.clients[member_id]
            if member is sender or member.connection is None:
                continue
            if member.status is Status.SUSPENDED:
                if len(member.held) == MAX_HELD:
                    member.dropped += 1
                member.held.append(line)
                held += 1
            elif member.status in RECEIVING and member.connection.push(line):
                delivered += 1
        self.messages += 1
        self.room_messages[room] += 1
        return delivered, held

    def pause(self, client):
        if client.status is Status.SUSPENDED:
            return
        if client.status not in RECEIVING:
            raise ChatError(
                f"client {client.id!r} is {client.status.value}; only CONNECTED or ACTIVE clients can be paused"
            )
        client.resume_status = client.status
        client.status = Status.SUSPENDED
        client.dropped = 0

    def resume(self, client):
        """Back to the status before the pause. Returns the lines for its connection: a RESUMED
        line, then the held messages (the caller pushes them, after its own reply if any)."""
        if client.status is not Status.SUSPENDED:
            raise ChatError(f"client {client.id!r} is not paused (it is {client.status.value})")
        client.status = client.resume_status
        lines = [f"RESUMED {client.id} {client.status.value} held={len(client.held)} dropped={client.dropped}"]
        lines.extend(client.held)
        client.held.clear()
        client.dropped = 0
        return lines

    # -- leaving ------------------------------------------------------------------------------

    def close(self, client, reason):
        """QUIT and POST /clients/close: CLOSING, removed, its connection closed with 1000 after
        the lines already queued for it. CLOSED once the connection is closed."""
        self._remove(client, Status.CLOSING)
        connection = client.connection
        if connection is None:
            client.status = Status.CLOSED
            self.closed += 1
        else:
            connection.close(1000, reason)
        return connection

    def connection_closed(self, connection, code):
        """The connection is gone: its client becomes CLOSED (a normal close: 1000, 1001, 1012, or
        after CLOSING) or ERROR (anything else, e.g. 1006 when it was lost), and is removed."""
        self.connections.discard(connection)
        client = connection.client
        if client is None or client.status is Status.CLOSED or client.status is Status.ERROR:
            return
        if client.status is Status.CLOSING or code in (1000, 1001, 1012):
            self._remove(client, Status.CLOSED)
            self.closed += 1
        else:
            self._remove(client, Status.ERROR)
            self.errored += 1

    def _remove(self, client, status):
        client.status = status
        client.held.clear()
        if self.clients.get(client.id) is client:
            del self.clients[client.id]
            self._leave(client)

    # -- views --------------------------------------------------------------------------------

    def room_list(self):
        return [
            {
                "name": name,
                "clients": [self.clients[i].describe() for i in members],
                "messages": self.room_messages[name],
            }
            for name, members in sorted(self.rooms.items())
        ]

    def status(self):
        by_status = collections.Counter(c.status.value for c in self.clients.values())
        return {
            "clients": len(self.clients),
            # CLOSING, CLOSED and ERROR clients are removed at once: they are counted in closed/errored
            "clients_by_status": {s.value: by_status.get(s.value, 0) for s in LISTED},
            "connections": len(self.connections),
            "rooms": len(self.rooms),
            "messages": self.messages,
            "closed": self.closed,
            "errored": self.errored,
            "uptime": round(time.monotonic() - self.started, 3),
            "limits": {"clients": MAX_CLIENTS, "message_length": MAX_MESSAGE_LENGTH, "held": MAX_HELD},
        }
