"""The FastAPI app: the REST routes (rest.py) and the WebSocket endpoint /ws speaking the line
protocol (protocol.py), over one ChatServer (chat.py). Serve it as `app.main:app`."""

import asyncio

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse

from .chat import MAX_CONNECTIONS, ChatError, ChatServer
from .connection import Connection
from .protocol import handle_frame
from .rest import router

app = FastAPI(title="node-asgi chat server")
app.state.chat = ChatServer()
app.include_router(router)


@app.exception_handler(ChatError)
async def chat_error(request: Request, err: ChatError):
    return JSONResponse({"detail": err.reason}, status_code=err.http_status)


@app.websocket("/ws")
async def chat_socket(websocket: WebSocket):
    """One client connection: lines in, replies and messages out (see protocol.py)."""
    chat = websocket.app.state.chat
    await websocket.accept()
    if len(chat.connections) >= MAX_CONNECTIONS:
        await websocket.close(1013, f"too many connections: {MAX_CONNECTIONS} is the limit")
        return
    connection = Connection(websocket)
    chat.connections.add(connection)
    reader = asyncio.ensure_future(read(chat, connection))
    writer = asyncio.ensure_future(connection.write())
    code = 1006
    try:
        await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        if writer.done() and writer.result() is not None:
            code = writer.result()  # we closed it (QUIT, POST /clients/close, overflow)
        else:
            code = await reader  # the peer closed it, or is gone: its close code
    finally:
        for task in (reader, writer):
            task.cancel()
        chat.connection_closed(connection, code)
        connection.finished.set()


async def read(chat, connection):
    """Runs the client's lines until it disconnects; returns its close code."""
    websocket = connection.websocket
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return message.get("code", 1005)
        if connection.closing is not None:
            continue  # closing: the peer's last lines are not run
        text = message.get("text")
        if text is None:
            connection.push("ERROR binary frames are not supported; send text lines")
        else:
            handle_frame(chat, connection, text)
