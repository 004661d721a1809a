"""HEAD answered wherever GET is: the GET handler runs, and the response goes out with its status and headers but no
body (RFC 9110 9.3.2), as Starlette, Django and Flask do for their GET routes.

Litestar routes by method before any middleware runs, so a route that declares only GET answers HEAD with 405; and
declaring HEAD on every handler would add a HEAD operation to every API path of the OpenAPI document. Instead the app's
ASGI handler (what Litestar calls once routing is to start, inside its before_send hooks) is wrapped once, in
create_app: a HEAD request is routed as a GET, with the body of every message it sends dropped. Content-Length stays
the length a GET would send, as the RFC allows. Litestar's own static file routes answer HEAD the same way.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send


def answer_head_as_get(app: Litestar) -> None:
    """Route every HEAD request of ``app`` as its GET, and send it back without a body."""
    app.asgi_handler = _HeadAsGet(app.asgi_handler)


class _HeadAsGet:
    def __init__(self, handler: ASGIApp) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await self.handler(scope, receive, send)
            return
        # A copy: the server keeps reading its own scope after the app has answered (uvicorn's httptools protocol checks
        # the body it was sent against Content-Length unless the request was a HEAD), and its access log names the
        # method the client sent.
        scope = {**scope, "method": "GET"}

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.handler(scope, receive, without_body)
