"""The REST API: Pydantic models for every body (FastAPI answers 422 with the details) and the
routes that drive the same chat server as the WebSocket protocol."""

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel, Extra, StrictBool, constr

from .chat import ID_PATTERN, MAX_MESSAGE_LENGTH

Identifier = constr(strict=True, regex=ID_PATTERN)
Message = constr(strict=True, min_length=1, max_length=MAX_MESSAGE_LENGTH)
CLOSE_WAIT = 5.0  # seconds POST /clients/close waits for the client's WebSocket to close

router = APIRouter()


class Body(BaseModel):
    class Config:
        extra = Extra.forbid  # a misspelt field is a 422, not silently ignored


class RegisterBody(Body):
    client_id: Identifier
    room: Identifier


class SendBody(Body):
    room: Identifier
    client_id: Identifier
    message: Message


class PauseBody(Body):
    client_id: Identifier
    resume: StrictBool = False


class CloseBody(Body):
    client_id: Identifier


class ClientOut(BaseModel):
    client_id: str
    room: str
    status: str


class SendOut(BaseModel):
    room: str
    client_id: str
    delivered: int
    held: int


def chat_of(request):
    return request.app.state.chat


@router.post("/clients/register", status_code=201, response_model=ClientOut)
async def register(body: RegisterBody, request: Request):
    """A client in status NEW (no connection yet) in `room`: 409 if the id exists, 503 when full."""
    return chat_of(request).register(body.room, body.client_id).describe()


@router.post("/messages/send", response_model=SendOut)
async def send(body: SendBody, request: Request):
    """Sends `message` to `room` as `client_id` (a member of it): reaches its WebSocket clients."""
    chat = chat_of(request)
    delivered, held = chat.send(chat.get(body.client_id), body.room, body.message)
    return {"room": body.room, "client_id": body.client_id, "delivered": delivered, "held": held}


@router.get("/chatrooms/list")
async def chatrooms(request: Request):
    """Every room with its members (id, status) and the number of messages sent to it."""
    return {"rooms": chat_of(request).room_list()}


@router.post("/clients/pause", response_model=ClientOut)
async def pause(body: PauseBody, request: Request):
    """Pauses a CONNECTED or ACTIVE client (it receives nothing, messages are held), or with
    `"resume": true` resumes it (it gets a RESUMED line, then the held messages)."""
    chat = chat_of(request)
    client = chat.get(body.client_id)
    if body.resume:
        for line in chat.resume(client):
            client.connection.push(line)
    else:
        chat.pause(client)
    return client.describe()


@router.post("/clients/close", response_model=ClientOut)
async def close(body: CloseBody, request: Request):
    """Closes a client: CLOSING, its WebSocket closed with 1000 (after the lines queued for it),
    then CLOSED and removed. Answers once it is CLOSED (or still CLOSING after a few seconds)."""
    chat = chat_of(request)
    client = chat.get(body.client_id)
    connection = chat.close(client, "closed by POST /clients/close")
    if connection is not None:
        try:
            await asyncio.wait_for(asyncio.shield(connection.finished.wait()), CLOSE_WAIT)
        except asyncio.TimeoutError:
            pass  # answered as CLOSING: the connection is still being closed
    return client.describe()


@router.get("/server/status")
async def server_status(request: Request):
    """Clients (with counts by status), connections, rooms, messages, closed/errored totals,
    uptime in seconds and the limits."""
    return chat_of(request).status()
