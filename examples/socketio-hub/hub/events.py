"""The hub's Socket.IO handlers: auth on connect, then every event rate-limited, validated and answered."""
import functools
import logging
import os
import time

import socketio

from .auth import AuthError, authenticate
from .rate_limit import RateLimited, RateLimiter, RedisRateLimiter
from .terminal import Terminal, TerminalError
from .validation import SCHEMAS, ValidationError, validate

log = logging.getLogger('socketio_hub')


MAX_ROOMS_PER_CONNECTION = 100


class Refused(Exception):
    """A valid payload the hub will not act on; `code` is machine-readable, str(self) the reason."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code


def error_payload(event, code, message, **extra):
    return {'event': event, 'code': code, 'message': message, **extra}


def register(sio, config, started):
    """Adds the connect handler and every event of SCHEMAS (plus a catch-all) to `sio`; returns the
    rate limiter (to close at shutdown)."""
    if config.redis_url:
        limiter = RedisRateLimiter(config.rate_limit_points, config.rate_limit_window, config.redis_url)
    else:
        limiter = RateLimiter(config.rate_limit_points, config.rate_limit_window)
    terminal = Terminal(config.terminal_commands, config.terminal_timeout,
                        config.terminal_output_limit, config.terminal_max_running)

    async def reply(sid, event, data):
        # The asker is connected to this process: answer it directly, not through Redis (which keeps the
        # answer ordered before the ack, and working while Redis is away).
        await sio.emit(event, data, to=sid, ignore_queue=True)

    async def fail(sid, event, code, message, **extra):
        payload = error_payload(event, code, message, **extra)
        await reply(sid, 'error', payload)
        return {'ok': False, 'error': payload}

    async def rate_limited(sid, event, exc):
        return await fail(sid, event, 'rate_limited', str(exc), retry_after=round(exc.retry_after, 3),
                          limit={'points': exc.points, 'window_seconds': exc.window})

    async def sender(sid):
        session = await sio.get_session(sid)
        return {'user': session['user'], 'name': session['name'], 'sid': sid}

    def handler(event):
        """Wraps an event handler: rate limit, then validation, then the handler; errors become `error` events."""
        def wrap(fn):
            @functools.wraps(fn)
            async def run(sid, payload=None, *extra):
                try:
                    session = await sio.get_session(sid)
                    await limiter.spend(session['user'])
                    if extra:
                        raise ValidationError(f'expected one payload argument, got {1 + len(extra)}')
                    fields = validate(payload, SCHEMAS[event], allow_empty=event == 'system_status')
                    result = await fn(sid, fields)
                    return {'ok': True, **(result or {})}
                except RateLimited as exc:
                    return await rate_limited(sid, event, exc)
                except ValidationError as exc:
                    return await fail(sid, event, 'invalid_payload', f'{event}: {exc}')
                except (Refused, TerminalError) as exc:
                    return await fail(sid, event, exc.code, f'{event}: {exc}')
                except Exception:  # a bug must not end the session: log it, tell the client
                    log.exception('handler for %s failed', event)
                    return await fail(sid, event, 'internal_error', f'{event}: the server failed to handle it')
            sio.on(event)(run)
            return run
        return wrap

    @sio.event
    async def connect(sid, environ, auth=None):
        try:
            claims = authenticate(auth, config.jwt_secret)
        except AuthError as exc:
            raise socketio.exceptions.ConnectionRefusedError(str(exc), {'code': exc.code}) from None
        name = claims.get('name')
        await sio.save_session(sid, {
            'user': claims['sub'],
            'name': name if isinstance(name, str) and len(name) <= 128 else claims['sub'],
        })

    @sio.on('*')
    async def unknown_event(event, sid, *args):
        event = str(event)[:64]
        session = await sio.get_session(sid)
        try:
            await limiter.spend(session['user'])
        except RateLimited as exc:
            return await rate_limited(sid, event, exc)
        return await fail(sid, event, 'unknown_event', f"unknown event {event!r}; known: {', '.join(sorted(SCHEMAS))}")

    def join(sid, room):
        joined = [r for r in sio.rooms(sid) if r != sid]
        if room not in joined and len(joined) >= MAX_ROOMS_PER_CONNECTION:
            raise Refused('too_many_rooms', f'a connection may join at most {MAX_ROOMS_PER_CONNECTION} rooms')
        sio.enter_room(sid, room)
        return {'room': room}

    @handler('join_session')
    async def join_session(sid, fields):
        return join(sid, 'session:' + fields['session_id'])

    @handler('join_project')
    async def join_project(sid, fields):
        return join(sid, 'project:' + fields['project_id'])

    async def require_room(sid, room):
        if room not in sio.rooms(sid):
            raise Refused('not_in_room', f'join {room} first')

    @handler('chat_message')
    async def chat_message(sid, fields):
        room = 'session:' + fields['session_id']
        await require_room(sid, room)
        await sio.emit('chat_message', {'session_id': fields['session_id'], 'text': fields['text'],
                                        'from': await sender(sid), 'at': time.time()}, room=room)

    @handler('file_update')
    async def file_update(sid, fields):
        room = 'project:' + fields['project_id']
        await require_room(sid, room)
        await sio.emit('file_update', {**fields, 'from': await sender(sid), 'at': time.time()},
                       room=room, skip_sid=sid)

    @handler('tts_notification')
    async def tts_notification(sid, fields):
        await sio.emit('tts_notification', {**fields, 'from': await sender(sid), 'at': time.time()})

    @handler('terminal_command')
    async def terminal_command(sid, fields):
        result = await terminal.run(fields['command'])
        if 'request_id' in fields:
            result['request_id'] = fields['request_id']
        await reply(sid, 'terminal_output', result)

    @handler('system_status')
    async def system_status(sid, fields):
        session = await sio.get_session(sid)
        await reply(sid, 'system_status', {
            'version': config.version,
            'uptime': round(time.monotonic() - started, 3),
            'pid': os.getpid(),
            'user': session['user'],
            'rooms': sorted(r for r in sio.rooms(sid) if r != sid),
            'connections': sum(1 for _ in sio.manager.get_participants('/', None)),
            'redis': config.redis_url is not None,
            'terminal_commands': sorted(config.terminal_commands),
        })

    return limiter
