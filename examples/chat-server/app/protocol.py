"""The WebSocket line protocol: each text frame carries command lines, each line gets one reply.

Commands: HELLO room:client_id, NEW room:client_id, JOIN room:client_id,
SEND room:client_id message, LIST rooms|clients, PAUSE client_id, QUIT client_id.
Replies start with "OK" or "ERROR <reason>"; pushed lines start with "MSG" or "RESUMED".
"""

import logging

from .chat import ChatError, Status, shown

MAX_LINES_PER_FRAME = 100
COMMANDS = ("HELLO", "NEW", "JOIN", "SEND", "LIST", "PAUSE", "QUIT")
log = logging.getLogger("chat-server")


def handle_frame(chat, connection, text):
    """Runs every line of a text frame (a final newline ends the last line, not a new one)."""
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    if len(lines) > MAX_LINES_PER_FRAME:
        connection.push(f"ERROR a frame may carry at most {MAX_LINES_PER_FRAME} lines, got {len(lines)} (none was run)")
        return
    for line in lines:
        if connection.closing is not None:
            return  # QUIT (or an overflow) ended this connection: the rest is not run
        handle_line(chat, connection, line[:-1] if line.endswith("\r") else line)


def handle_line(chat, connection, line):
    """Runs one command and queues its reply. A SUSPENDED client's command (other than PAUSE or
    QUIT) resumes it first; its RESUMED line and held messages follow the reply."""
    word, _, rest = line.lstrip().partition(" ")
    command = word.upper()
    client = connection.client
    resumed = ()
    if client is not None and client.status is Status.SUSPENDED and command not in ("PAUSE", "QUIT"):
        resumed = chat.resume(client)
    try:
        reply = run(chat, connection, command, word, rest)
    except ChatError as err:
        reply = f"ERROR {err.reason}"
    except Exception:  # a bug must not end the connection, let alone the server
        log.exception("command %s failed", shown(line))
        reply = f"ERROR internal error while running {shown(word)}"
    if reply is not None:
        connection.push(reply)
    for pushed in resumed:
        connection.push(pushed)


def run(chat, connection, command, word, rest):
    if command == "HELLO":
        room, client_id = target(command, rest)
        client = chat.hello(connection, room, client_id)
        return f"OK HELLO {room}:{client_id} {client.status.value}"
    if command == "NEW":
        room, client_id = target(command, rest)
        client = chat.register(room, client_id)
        return f"OK NEW {room}:{client_id} {client.status.value}"
    if command == "JOIN":
        room, client_id = target(command, rest)
        client = chat.join(connection, room, client_id)
        return f"OK JOIN {room}:{client_id} {client.status.value}"
    if command == "SEND":
        where, _, message = rest.partition(" ")
        room, client_id = target(command, where, "room:client_id message", rest)
        client = chat.owned(connection, client_id)
        delivered, held = chat.send(client, room, message)
        if client.status is Status.CONNECTED:
            client.status = Status.ACTIVE
        return f"OK SEND {room}:{client_id} delivered={delivered} held={held}"
    if command == "LIST":
        what = rest.strip().lower()
        if what == "rooms":
            return " ".join(["OK ROOMS"] + [f"{r['name']}:{len(r['clients'])}" for r in chat.room_list()])
        if what == "clients":
            return " ".join(["OK CLIENTS"] + [f"{i}:{chat.clients[i].status.value}" for i in sorted(chat.clients)])
        raise ChatError(f"LIST expects 'rooms' or 'clients', got {shown(rest.strip())}")
    if command == "PAUSE":
        client = chat.owned(connection, single(command, rest))
        chat.pause(client)
        return f"OK PAUSE {client.id} {client.status.value}"
    if command == "QUIT":
        client = chat.owned(connection, single(command, rest))
        connection.push(f"OK QUIT {client.id} {Status.CLOSING.value}")
        chat.close(client, f"{client.id} quit")
        return None
    if not word:
        raise ChatError(f"empty command; commands are {', '.join(COMMANDS)}")
    raise ChatError(f"unknown command {shown(word)}; commands are {', '.join(COMMANDS)}")


def target(command, text, form="room:client_id", given=None):
    """Parses `room:client_id` (the ids are checked by the chat server)."""
    parts = text.split(" ") if text else []
    if len(parts) != 1 or ":" not in parts[0]:
        raise ChatError(f"{command} expects '{form}', got {shown(text if given is None else given)}")
    room, _, client_id = parts[0].partition(":")
    return room, client_id


def single(command, text):
    parts = text.split()
    if len(parts) != 1:
        raise ChatError(f"{command} expects 'client_id', got {shown(text)}")
    return parts[0]

