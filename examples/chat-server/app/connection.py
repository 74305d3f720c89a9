"""One WebSocket connection's outgoing side: a bounded outbox of lines and the task that writes it.

Replies and pushed messages for a connection go through its outbox in order, so a command's reply
and the messages around it arrive in the order the server produced them. A connection whose
outbox overflows (a client that does not read) is closed with 1008; nobody else waits for it.
"""

import asyncio
import collections

OUTBOX_LIMIT = 1000  # lines waiting to be written to one connection


class Connection:
    __slots__ = ("websocket", "client", "outbox", "ready", "closing", "finished")

    def __init__(self, websocket):
        self.websocket = websocket
        self.client = None  # the chat.Client this connection identified as (HELLO/JOIN)
        self.outbox = collections.deque()
        self.ready = asyncio.Event()  # set when there is something to write or to close
        self.closing = None  # (code, reason) once close() was called
        self.finished = asyncio.Event()  # set once the connection is over and its client updated

    def push(self, line):
        """Queues `line`; False if the connection is closing (nothing is queued then)."""
        if self.closing is not None:
            return False
        if len(self.outbox) >= OUTBOX_LIMIT:
            self.outbox.clear()
            self.close(1008, f"too slow: {OUTBOX_LIMIT} lines were waiting to be sent")
            return False
        self.outbox.append(line)
        self.ready.set()
        return True

    def close(self, code, reason):
        """Closes the connection with `code` and `reason` after the lines already queued."""
        if self.closing is None:
            self.closing = (code, reason)
            self.ready.set()

    async def write(self):
        """Writes the outbox until close() was called (returns its code) or the peer is gone
        (returns None)."""
        try:
            while True:
                await self.ready.wait()
                self.ready.clear()
                while self.outbox:
                    await self.websocket.send_text(self.outbox.popleft())
                if self.closing is not None:
                    await self.websocket.close(*self.closing)
                    return self.closing[0]
        except (OSError, RuntimeError):  # the peer went away while we were writing
            return None
