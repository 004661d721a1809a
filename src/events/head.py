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

# Set in the request's scope state when a HEAD is being answered by the GET handler (a handler may skip work only a
# body needs, though none has to).
HEAD_REQUEST = "head_request"


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
        scope["method"] = "GET"
        scope.setdefault("state", {})[HEAD_REQUEST] = True

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.handler(scope, receive, without_body)
