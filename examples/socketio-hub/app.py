"""A Socket.IO real-time hub (python-socketio on ASGI) next to a Starlette app serving GET /health."""
import contextlib
import logging
import time

import socketio
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub import config as hub_config
from hub.events import register

log = logging.getLogger('socketio_hub')
started = time.monotonic()
config = hub_config.load()  # a bad variable stops startup here, with its name in the message

client_manager = socketio.AsyncRedisManager(config.redis_url) if config.redis_url else None
sio = socketio.AsyncServer(
    async_mode='asgi',
    client_manager=client_manager,
    cors_allowed_origins=config.cors_origins,
    logger=False,
    engineio_logger=False,
)
limiter = register(sio, config, started)


async def health(request):
    return JSONResponse({'status': 'ok', 'uptime': round(time.monotonic() - started, 3), 'version': config.version})


@contextlib.asynccontextmanager
async def lifespan(app):
    if client_manager is not None:
        try:
            await client_manager.redis.ping()
        except Exception as exc:
            raise RuntimeError(f'REDIS_URL {config.redis_url}: cannot reach Redis: {exc}') from None
        # Subscribe now rather than at the first client's connect, so broadcasts from other processes
        # reach this one from the start.
        sio.manager_initialized = True
        client_manager.initialize()
        log.info('socketio-hub: broadcasting through Redis at %s', config.redis_url)
    yield
    await limiter.close()
    if client_manager is not None:
        thread = getattr(client_manager, 'thread', None)
        if thread is not None:
            thread.cancel()
        await client_manager.redis.close()


starlette_app = Starlette(routes=[Route('/health', health)], lifespan=lifespan)
app = socketio.ASGIApp(sio, other_asgi_app=starlette_app)
