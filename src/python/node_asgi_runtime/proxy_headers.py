"""uvicorn's --proxy-headers: trusted X-Forwarded-For/-Proto/-Port set scope client, scheme, server.

Only requests whose peer (scope["client"]) is a trusted proxy are rewritten: the client becomes the
right-most X-Forwarded-For entry that is not itself a trusted proxy (the left-most when all are),
with port 0 as in uvicorn; the scheme comes from X-Forwarded-Proto (http/https, ws/wss for
WebSockets); the server port from X-Forwarded-Port. Lifespan passes through untouched.
"""

import ipaddress

_PREFIX = b"x-forwarded-"


class TrustedHosts:
    """'*', or IP addresses and CIDR networks (a list lib/options.js has validated)."""

    def __init__(self, trusted):
        self.always = "*" in trusted
        self.networks = [ipaddress.ip_network(h, strict=False) for h in trusted if h != "*"]  # an address is a /32 or /128
        self.cache = {}  # host -> trusted, so that the per-request check is one dict lookup

    def __contains__(self, host):
        if self.always:
            return True
        if not host:
            return False
        known = self.cache.get(host)
        if known is None:
            known = self.cache[host] = self.check(host)
            if len(self.cache) > 4096:  # many distinct peers: start over rather than grow
                self.cache.clear()
        return known

    def check(self, host):
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # not an address (an X-Forwarded-For entry such as "unknown")
        return any(address in n for n in self.networks)

    def client_from(self, forwarded_for):
        hosts = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if not hosts:
            return None
        if self.always:
            return hosts[0]
        for host in reversed(hosts):  # each proxy appends the address it saw
            if host not in self:
                return host
        return hosts[0]  # every entry is a trusted proxy: the first is the client


class ProxyHeadersMiddleware:
    def __init__(self, app, trusted):
        self.app = app
        self.trusted = TrustedHosts(trusted)

    def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http" or kind == "websocket":
            client = scope.get("client")
            if client is not None and client[0] in self.trusted:
                self.rewrite(scope, kind)
        return self.app(scope, receive, send)

    def rewrite(self, scope, kind):
        proto = forwarded_for = port = None
        for name, value in scope["headers"]:
            if not name.startswith(_PREFIX):
                continue
            if name == b"x-forwarded-proto":
                proto = value
            elif name == b"x-forwarded-for":
                forwarded_for = value
            elif name == b"x-forwarded-port":
                port = value
        if proto is not None:
            proto = proto.decode("latin-1").strip().lower()
            if proto in ("http", "https", "ws", "wss"):
                if kind == "websocket":
                    scope["scheme"] = proto.replace("http", "ws")
                else:
                    scope["scheme"] = proto.replace("ws", "http")
        if forwarded_for is not None:
            host = self.trusted.client_from(forwarded_for.decode("latin-1"))
            if host:
                scope["client"] = (host, 0)
        if port is not None and scope.get("server") is not None:
            text = port.decode("latin-1").strip()
            if text.isdigit() and 0 < int(text) < 65536:
                scope["server"] = (scope["server"][0], int(text))
