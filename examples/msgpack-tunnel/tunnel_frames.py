"""The tunnel's wire format: decode and check client frames, encode server messages (MessagePack maps)."""

import msgpack

MAX_PAYLOAD = 1024 * 1024  # bytes of 'payload' in one 'data' frame

# WebSocket close codes the tunnel uses (README.md, "Close codes").
NORMAL = 1000
UNSUPPORTED_DATA = 1003  # text frame; MessagePack of the wrong shape or an unknown type
INVALID_PAYLOAD = 1007  # bytes that are not one MessagePack object
POLICY_VIOLATION = 1008  # authentication failed or missing; a message out of order
MESSAGE_TOO_BIG = 1009  # a 'data' payload over MAX_PAYLOAD (larger frames: the server's --ws-max-size)
PEER_LEFT = 4000  # the other end of the tunnel closed or was closed

# The fields each client message type must have (and may have: no others), with their types.
FIELDS = {
    "auth": {"token": str},
    "open": {},
    "join": {"tunnel": str},
    "data": {"payload": bytes},
}
MAX_TUNNEL_ID = 64

# Python types as MessagePack names them, for error reasons.
KINDS = {str: "str", bytes: "bin", int: "int", float: "float", bool: "bool", type(None): "nil",
         list: "array", dict: "map"}


class FrameError(Exception):
    """A frame that ends its connection: `code` is the close code, the message the close reason."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code


def kind_of(value):
    return KINDS.get(type(value), "ext")


def describe_unpack_error(exc):
    if isinstance(exc, msgpack.ExtraData):
        return "extra bytes after the first MessagePack object"
    if isinstance(exc, msgpack.StackError):
        return "nested too deeply"
    if isinstance(exc, msgpack.FormatError):
        return "invalid type byte"
    if isinstance(exc, UnicodeDecodeError):
        return f"a str is not UTF-8 ({exc.reason})"
    return str(exc) or type(exc).__name__


def decode(message):
    """Checks one ASGI 'websocket.receive' message; returns (type, frame dict) or raises FrameError."""
    data = message.get("bytes")
    if data is None:
        raise FrameError(UNSUPPORTED_DATA, "text frame: send MessagePack maps in binary frames")
    try:
        frame = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises ValueError subclasses, and TypeError for unhashable keys
        raise FrameError(INVALID_PAYLOAD, f"not MessagePack: {describe_unpack_error(exc)}") from None
    if type(frame) is not dict:
        raise FrameError(UNSUPPORTED_DATA, f"a frame must be a MessagePack map, got {kind_of(frame)}")
    message_type = frame.get("type")
    if type(message_type) is not str:
        got = "none" if "type" not in frame else kind_of(message_type)
        raise FrameError(UNSUPPORTED_DATA, f"a frame needs 'type' (a str), got {got}")
    fields = FIELDS.get(message_type)
    if fields is None:
        raise FrameError(UNSUPPORTED_DATA,
                         f"unknown message type {message_type[:40]!r}: expected auth, open, join or data")
    for key in frame:
        if key != "type" and key not in fields:
            raise FrameError(UNSUPPORTED_DATA, f"'{message_type}' has an unknown field {str(key)[:40]!r}")
    for name, expected in fields.items():
        if name not in frame:
            raise FrameError(UNSUPPORTED_DATA, f"'{message_type}' needs '{name}' ({KINDS[expected]})")
        if type(frame[name]) is not expected:
            raise FrameError(UNSUPPORTED_DATA,
                             f"'{message_type}' needs '{name}' as {KINDS[expected]}, got {kind_of(frame[name])}")
    if message_type == "data" and len(frame["payload"]) > MAX_PAYLOAD:
        raise FrameError(MESSAGE_TOO_BIG,
                         f"'data' payload is {len(frame['payload'])} bytes; the limit is {MAX_PAYLOAD}")
    if message_type == "join" and not 0 < len(frame["tunnel"]) <= MAX_TUNNEL_ID:
        raise FrameError(UNSUPPORTED_DATA, f"'join' needs 'tunnel' as 1 to {MAX_TUNNEL_ID} characters")
    return message_type, frame


def encode(message_type, **fields):
    """A server message: a MessagePack map with 'type' first; bytes are packed as bin."""
    return msgpack.packb({"type": message_type, **fields}, use_bin_type=True)


def close_reason(text):
    """`text` cut to the 123 UTF-8 bytes a close frame has room for."""
    raw = text.encode("utf-8")
    if len(raw) <= 123:
        return text
    return raw[:120].decode("utf-8", "ignore") + "..."
