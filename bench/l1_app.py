"""L1, the machine's own ceiling: a framework-free ASGI app answering a small JSON document.

Served by the same server (Uvicorn, uvloop + httptools) with the same worker count as Mercato,
so a scenario's req/s divided by this app's is the share of the ceiling the shop reaches. No
routing, no middleware, no database: what is left is the server, the event loop and the socket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

BODY = b'{"id":1,"name":"L1","price":9900,"currency":"CNY","available":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def app(
    scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
