"""The app `npm run soak` serves: a raw hello, a FastAPI JSON route and a WebSocket echo, one app."""
from bench_apps import fastapi_app, hello, ws_echo


async def app(scope, receive, send):
    if scope["type"] == "websocket":
        await ws_echo(scope, receive, send)
    elif scope["type"] == "http" and scope["path"] == "/hello":
        await hello(scope, receive, send)
    else:
        await fastapi_app(scope, receive, send)
