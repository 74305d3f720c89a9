"""The raw ASGI hello of bench_apps.py on its own (no FastAPI import), for the in-process rows of
node-asgi/platformatic and @platformatic/python-node, whichever Python the latter links."""

HELLO = b"Hello, world!"
HELLO_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"13")]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HELLO_HEADERS})
    await send({"type": "http.response.body", "body": HELLO})
