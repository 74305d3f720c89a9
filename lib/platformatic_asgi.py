"""node-asgi/platformatic's ASGI wrapper: loads an app file from a docroot as
@platformatic/python-node does, and frames each HTTP response body so that lib/platformatic.js
learns, per request, the app's exception and the log records it emitted (loop thread only).

Wire format towards Node (an internal protocol between this file and lib/platformatic_frames.js):
- http.response.start goes out as the app sent it, unless the response streams (handleStream)
  or its status has no body (1xx, 204, 304): then with status 200, the app's status as the first
  header, `x-node-asgi-platformatic` ("0" when the app started no response: the trailer says
  why), and its Content-Length as `x-node-asgi-platformatic-length` (Node would drop the body, or
  check its length, and the framing changes both);
- the body is a sequence of frames: 1 type byte + 4-byte big-endian length + payload. b"D" is
  response data; the last frame, sent when the app returns, is b"E" (nothing to report) or b"X"
  (JSON: {"s": started, "c": complete, "e": [type, message, traceback] or null, "r": reason or
  null, "l": log text}).
A request may carry a `x-node-asgi-platformatic` header first (JSON, removed before the app sees
the scope): {"m": method, "s": scheme, "c": [host, port], "v": [host, port], "t": 1 to stream}.
"""

import asyncio
import binascii
import contextvars
import importlib.util
import json
import logging
import os
import sys
import traceback

MARKER = b"x-node-asgi-platformatic"
LENGTH = b"x-node-asgi-platformatic-length"
EMPTY_TRAILER = b"E\x00\x00\x00\x00"
NO_BODY = frozenset(range(100, 200)) | {204, 304}

_records = contextvars.ContextVar("node_asgi_platformatic_records", default=None)


class _RecordCapture(logging.Handler):
    """Root handler: a record emitted while a request runs (its task's context) joins that
    request's `log`. When it is the only root handler, records still reach logging.lastResort
    (stderr, WARNING and up) as they would without it."""

    def __init__(self):
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter(logging.BASIC_FORMAT))

    def emit(self, record):
        records = _records.get()
        if records is not None:
            try:
                records.append(self.format(record))
            except Exception:  # noqa: BLE001 — a bad record must not break the app
                self.handleError(record)
        last = logging.lastResort
        if last is not None and record.levelno >= last.level and logging.root.handlers == [self] and not _handled_below_root(record.name):
            last.handle(record)


def _handled_below_root(name):
    """Whether a logger between `name` and the root has handlers (then logging would not have
    used lastResort for the record)."""
    logger = logging.getLogger(name)
    while logger is not None and logger is not logging.root:
        if logger.handlers:
            return True
        logger = logger.parent
    return False


def _install_capture():
    if not any(isinstance(h, _RecordCapture) for h in logging.root.handlers):
        logging.root.addHandler(_RecordCapture())


def _describe(exc):
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    return [name, str(exc), "".join(traceback.format_exception(cls, exc, exc.__traceback__))]


def _frame(kind, payload):
    return kind + len(payload).to_bytes(4, "big") + bytes(payload)


class _Done:
    """An awaitable that is already done: what send() returns when nothing goes to Node."""

    __slots__ = ()

    def __await__(self):
        return iter(())


DONE = _Done()


def _is_bytes(value):
    return isinstance(value, (bytes, bytearray, memoryview))


class _Exchange:
    """One HTTP request through the app: the wrapped send() and what the trailer reports."""

    __slots__ = ("send", "stream", "started", "complete", "held")

    def __init__(self, send, stream):
        self.send = send
        self.stream = stream  # handleStream: the final data goes out at once, not with the trailer
        self.started = False
        self.complete = False
        self.held = b""  # buffered mode: the final data frame, sent with the trailer

    def wrapped_send(self, message):
        """The app's send(): returns the awaitable of node-asgi's send() (no coroutine of its own)."""
        kind = message.get("type") if type(message) is dict else None
        if kind == "http.response.start" and not self.started:
            status = message.get("status")
            if type(status) is not int:
                return self.send(message)  # node-asgi's send() raises its own error
            if self.stream or status in NO_BODY:
                start = self.translate_start(message)
                if start is None:
                    return self.send(message)
                message = start
            self.started = True  # finish() copes with a start node-asgi then refused
            return self.send(message)
        if kind == "http.response.body" and self.started:
            if self.complete:
                raise RuntimeError("Unexpected ASGI message 'http.response.body' sent, after response already completed.")
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if not _is_bytes(body) or type(more) is not bool:
                return self.send(message)  # node-asgi's send() names the bad key
            if more:
                if body:
                    return self.send({"type": "http.response.body", "body": _frame(b"D", body), "more_body": True})
                return DONE
            self.complete = True
            if body:
                if self.stream:
                    return self.send({"type": "http.response.body", "body": _frame(b"D", body), "more_body": True})
                self.held = _frame(b"D", body)
            return DONE
        return self.send(message)  # misordered or unknown: node-asgi's send() raises as uvicorn does

    @staticmethod
    def translate_start(message):
        status = message.get("status")
        headers = message.get("headers", ())
        if type(status) is not int:
            return None
        out = [(MARKER, str(status).encode())]
        try:
            for name, value in headers:
                if _is_bytes(name) and bytes(name).lower() == b"content-length":
                    out.append((LENGTH, value))
                else:
                    out.append((name, value))
        except (TypeError, ValueError):
            return None
        start = dict(message)
        start["status"] = 200
        start["headers"] = out
        return start

    async def finish(self, error, reason, records):
        if error is None and reason is None and not records and self.complete:
            trailer = EMPTY_TRAILER
        else:
            log = "".join(f"{line}\n" for line in records)
            if error is not None:
                log += f"Exception in ASGI application\n{error[2]}"
            report = {"s": self.started, "c": self.complete, "e": error, "r": reason, "l": log}
            trailer = _frame(b"X", json.dumps(report).encode())
        if self.started:
            try:
                await self.send({"type": "http.response.body", "body": self.held + trailer, "more_body": False})
                return
            except RuntimeError:
                pass  # node-asgi refused the app's start (a bad header): answer as if none was sent
        await self.send({"type": "http.response.start", "status": 200, "headers": [(MARKER, b"0")]})
        await self.send({"type": "http.response.body", "body": trailer, "more_body": False})


def _apply_marker(scope):
    """The scope with its first header (the marker) applied and removed; whether to stream."""
    headers = scope["headers"]
    scope = dict(scope)
    scope["headers"] = headers[1:]
    try:
        info = json.loads(headers[0][1])
    except ValueError:
        return scope, False
    if type(info) is not dict:
        return scope, False
    if "m" in info:
        scope["method"] = info["m"]
    if "s" in info:
        scope["scheme"] = info["s"]
    if "c" in info:
        scope["client"] = tuple(info["c"])
    if "v" in info:
        scope["server"] = tuple(info["v"])
    return scope, info.get("t") == 1


class PlatformaticApp:
    """The user's ASGI app behind the framing. Lifespan and WebSocket scopes pass straight through."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = scope["headers"]
        if headers and headers[0][0] == MARKER:
            scope, stream = _apply_marker(scope)
        else:
            stream = False
        exchange = _Exchange(send, stream)
        records = []
        _records.set(records)  # this request's task owns this context (node-asgi: a task per request)
        error = None
        reason = None
        try:
            await self.app(scope, receive, exchange.wrapped_send)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: B902 — reported to the caller, as uvicorn would log it
            error = _describe(exc)
        else:
            if not exchange.started:
                reason = "ASGI callable returned without starting response."
            elif not exchange.complete:
                reason = "ASGI callable returned without completing response."
            elif not records:  # the common case, inline: nothing to report
                await send({"type": "http.response.body", "body": exchange.held + EMPTY_TRAILER, "more_body": False})
                return
        await exchange.finish(error, reason, records)


def load(docroot, file, function):
    """Executes DOCROOT/FILE.py as module FILE (as @platformatic/python-node does: a fresh module
    per handler, registered in sys.modules) and wraps its attribute FUNCTION."""
    entry = os.path.join(docroot, f"{file}.py")
    if not os.path.isfile(entry):
        raise FileNotFoundError(f"Entry point not found: {entry}")
    if docroot not in sys.path:
        sys.path.insert(0, docroot)
    name = file.replace("/", ".")
    spec = importlib.util.spec_from_file_location(name, entry)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    try:
        app = getattr(module, function)
    except AttributeError:
        # not an AttributeError: node-asgi's loader would replace its message with its own
        raise ImportError(f'Attribute "{function}" not found in {entry}.') from None
    if not callable(app):
        raise TypeError(f'"{file}:{function}" is not callable (got {type(app).__name__}).')
    _install_capture()
    return PlatformaticApp(app)


class _Targets:
    """node-asgi imports 'platformatic_asgi:targets.x<hex>': the hex is the JSON
    {"docroot", "file", "function"} of one Python instance."""

    def __getattr__(self, name):
        if not name.startswith("x"):
            raise AttributeError(name)
        target = json.loads(binascii.unhexlify(name[1:]))
        try:
            return load(target["docroot"], target["file"], target["function"])
        except AttributeError as exc:  # raised by the module's code: keep its message (see load())
            raise ImportError(f"AttributeError: {exc}") from exc


targets = _Targets()
