"""Fixed-window rate limits per user (the token's sub): counted in this process, or in Redis when shared."""
import logging
import time

log = logging.getLogger('socketio_hub')


class RateLimited(Exception):
    """Over the limit; `retry_after` seconds until the window resets."""

    def __init__(self, points, window, retry_after):
        super().__init__(f'rate limit exceeded: {points} events per {window:g} s; retry in {retry_after:.2f} s')
        self.points, self.window, self.retry_after = points, window, retry_after


class RateLimiter:
    """Counts in this process."""

    def __init__(self, points, window, clock=time.monotonic):
        self.points, self.window, self.clock = points, window, clock
        self.windows = {}  # key -> [window start, points spent]

    async def spend(self, key, cost=1):
        """Spends `cost` points for `key`, or raises RateLimited (spending nothing)."""
        now = self.clock()
        entry = self.windows.get(key)
        if entry is None or now - entry[0] >= self.window:
            if len(self.windows) > 10_000:
                self._prune(now)
            entry = self.windows[key] = [now, 0]
        if entry[1] + cost > self.points:
            raise RateLimited(self.points, self.window, entry[0] + self.window - now)
        entry[1] += cost

    def _prune(self, now):
        for key in [k for k, (start, _) in self.windows.items() if now - start >= self.window]:
            del self.windows[key]

    async def close(self):
        pass


class RedisRateLimiter:
    """Counts in Redis: one key per user, created with the window as its expiry, incremented atomically."""

    PREFIX = 'socketio-hub:rate:'

    def __init__(self, points, window, url):
        from redis import asyncio as aioredis
        self.points, self.window = points, window
        self.window_ms = max(1, round(window * 1000))
        self.redis = aioredis.Redis.from_url(url)

    async def spend(self, key, cost=1):
        """Spends `cost` points for `key`, or raises RateLimited. If Redis fails, the event is let through."""
        name = self.PREFIX + key
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(name, 0, px=self.window_ms, nx=True)
                pipe.incrby(name, cost)
                pipe.pttl(name)
                _, spent, ttl_ms = await pipe.execute()
        except Exception as exc:  # Redis away: keep serving rather than refuse everyone
            log.warning('rate limit not checked, Redis failed: %s', exc)
            return
        if spent > self.points:
            raise RateLimited(self.points, self.window, max(ttl_ms, 0) / 1000)

    async def close(self):
        await self.redis.close()
