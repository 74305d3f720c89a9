"""What every request cycle shares: log levels, the canned 500, and the Cycle base class."""

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
        # the futures send() waits on while Node's socket is congested: one per waiting task,
        # since tasks of one connection may send concurrently (uvicorn allows it)
        self.drain_waiter = None

    def on_drained(self):
        waiters = self.drain_waiter
        if waiters is not None:
            self.drain_waiter = None
            for waiter in waiters:
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
            waiter = self.server.loop.create_future()
            if self.drain_waiter is None:
                self.drain_waiter = [waiter]
            else:
                self.drain_waiter.append(waiter)
            await waiter
        else:
            self.pending = pending
