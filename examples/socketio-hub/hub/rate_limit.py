"""Fixed-window rate limit: each user (the token's sub) may spend `points` events per `window` seconds."""
import time


class RateLimited(Exception):
    """Over the limit; `retry_after` seconds until the window resets."""

    def __init__(self, points, window, retry_after):
        super().__init__(f'rate limit exceeded: {points} events per {window:g} s; retry in {retry_after:.2f} s')
        self.points, self.window, self.retry_after = points, window, retry_after


class RateLimiter:
    def __init__(self, points, window, clock=time.monotonic):
        self.points, self.window, self.clock = points, window, clock
        self.windows = {}  # key -> [window start, points spent]

    def spend(self, key, cost=1):
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
