"""The floor under any single-threaded server: how many requests per second one asyncio thread
runs through an app with no server around it (the app called as a server calls it: a Task per
request, 100 at a time, receive/send that return at once).

Run two ways by `npm run bench -- --only floor`:
  /usr/bin/python3 app_floor.py APP SECONDS   Debian's python3 binary, which uvicorn runs on
  the ASGI app `app_floor:app`, in node-asgi     the embedded libpython3.11.so (?app=APP&seconds=S)
Both print or answer {"rps", "us", "cpu"}: calls per second, µs per call, thread CPU per second.
"""
import asyncio
import json
import sys
import time
from urllib.parse import parse_qs

import bench_apps

TARGETS = {"hello": "/", "fastapi_app": "/items/42?q=bench"}


def scope_for(target):
    path, _, query = target.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": query.encode(), "root_path": "", "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "extensions": {}, "state": {},
    }


async def measure(name, seconds):
    app = getattr(bench_apps, name)
    template = scope_for(TARGETS[name])
    loop = asyncio.get_running_loop()

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    async def batch():
        await asyncio.gather(*[loop.create_task(app(dict(template), receive, send)) for _ in range(100)])

    for _ in range(20):  # warm up
        await batch()
    calls = 0
    cpu0, t0 = time.thread_time(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        await batch()
        calls += 100
    wall = time.perf_counter() - t0
    cpu = time.thread_time() - cpu0
    return {"rps": calls / wall, "us": cpu / calls * 1e6, "cpu": cpu / wall}


async def app(scope, receive, send):
    """node-asgi side: GET /?app=NAME&seconds=S measures on this loop thread."""
    if scope["type"] != "http":
        return
    query = parse_qs(scope["query_string"].decode())
    result = await measure(query["app"][0], float(query.get("seconds", ["5"])[0]))
    body = json.dumps(result).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure(sys.argv[1], float(sys.argv[2])))))
