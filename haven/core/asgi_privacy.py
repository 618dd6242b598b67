"""An ASGI wrapper that removes the visitor's address before anything else sees it."""

from __future__ import annotations

from typing import Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable

from haven.core import sources
from haven.core.middleware import PROBES as _PROBES

# Headers that carry the client address or identify the browser. Haven needs none of them,
# so they are dropped before Django or Channels can read, store or log them.
IDENTIFYING_HEADERS = frozenset(
    {
        b"x-forwarded-for",
        b"x-real-ip",
        b"forwarded",
        b"true-client-ip",
        b"cf-connecting-ip",
        b"user-agent",
    }
)


def strip_identifying_scope(scope: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of an ASGI scope without the client address and identifying headers."""
    cleaned = dict(scope)
    cleaned["client"] = None
    if "headers" in scope:
        cleaned["headers"] = [
            (name, value)
            for name, value in scope["headers"]
            if name.lower() not in IDENTIFYING_HEADERS
        ]
    return cleaned


class StripClientAddress:
    """Wrap an ASGI app so that ``scope["client"]`` and address headers never reach it.

    What the app gets instead is ``scope["haven.source"]``: a keyed hash of the address
    under today's key (see :mod:`haven.core.sources`), for abuse limits only.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self, scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] in {"http", "websocket"}:
            client = scope.get("client")
            scope = strip_identifying_scope(scope)
            # The probes (haven.core.middleware.PROBES) need no source: they answer without
            # it even when the shared key cannot be had.
            if client and scope.get("path", "").lstrip("/") not in _PROBES:
                scope[sources.SCOPE_KEY] = await sources.source_id(str(client[0]))
        await self.app(scope, receive, send)
