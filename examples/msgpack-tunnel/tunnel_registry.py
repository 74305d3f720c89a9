"""Open tunnels by id: created by 'open' with one end, paired by 'join', removed when an end leaves.
Loop thread only; no method awaits, so each runs as one step."""

import secrets


class JoinError(Exception):
    """A 'join' that cannot pair: `error` is the code sent to the client ('unknown_tunnel', 'tunnel_full')."""

    def __init__(self, error, message):
        super().__init__(message)
        self.error = error


class Tunnel:
    __slots__ = ("id", "ends")

    def __init__(self, tunnel_id, opener):
        self.id = tunnel_id
        self.ends = [opener]


class Registry:
    def __init__(self):
        self.tunnels = {}  # id -> Tunnel, with one end (waiting) or two (paired)

    def open(self, session):
        tunnel_id = secrets.token_urlsafe(12)
        while tunnel_id in self.tunnels:
            tunnel_id = secrets.token_urlsafe(12)
        tunnel = self.tunnels[tunnel_id] = Tunnel(tunnel_id, session)
        return tunnel

    def join(self, tunnel_id, session):
        """Pairs `session` with the tunnel's opener; returns the tunnel or raises JoinError."""
        tunnel = self.tunnels.get(tunnel_id)
        if tunnel is None:
            raise JoinError("unknown_tunnel", f"no tunnel {tunnel_id!r} is open")
        if len(tunnel.ends) == 2:
            raise JoinError("tunnel_full", f"tunnel {tunnel_id!r} already has two ends")
        tunnel.ends.append(session)
        return tunnel

    def leave(self, tunnel):
        """Removes `tunnel` (when one of its ends leaves); returns False if it was already gone."""
        return self.tunnels.pop(tunnel.id, None) is not None

    def counts(self):
        paired = sum(1 for tunnel in self.tunnels.values() if len(tunnel.ends) == 2)
        return {"waiting": len(self.tunnels) - paired, "paired": paired}
