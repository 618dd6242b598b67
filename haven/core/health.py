"""Is this worker ready to serve? Its database and its channel layer, each asked briefly.

Used by ``/healthz`` (readiness: the proxy and systemd send no one to a worker that cannot
store or deliver a message) and by nothing on the hot path.
"""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer
from django.db import connection

from haven.core import db

# A check that takes longer than this counts as failed: a proxy must not hang on it.
TIMEOUT_SECONDS = 2.0


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _answers(check: object) -> bool:
    try:
        await asyncio.wait_for(check, timeout=TIMEOUT_SECONDS)  # type: ignore[arg-type]
    except Exception:
        return False
    return True


async def readiness() -> dict[str, bool]:
    """Each part this worker needs, and whether it answered."""
    layer = get_channel_layer()
    database, channel_layer = await asyncio.gather(
        _answers(db.read(_select_one)),
        _answers(layer.ping()) if layer is not None else asyncio.sleep(0, result=False),
    )
    return {"database": database, "channel_layer": channel_layer}
