"""Abuse limits for the chat: counted in memory, shared between workers through Redis.

The chat's limits (new chats and messages per hashed source, messages per conversation,
return-code tries, blocked sources) are checked inside the services that store messages.
Those run in the writer thread while it holds the database's write lock, so a check must
never wait for the network: every check here reads this process's memory only
(:class:`haven.core.counters.WindowCounters`).

With ``REDIS_URL`` set, :func:`exchange` (run every second by each worker, see
:mod:`haven.core.lifespan`) adds this worker's new hits to shared counts in Redis and reads
back the totals, and passes on blocks and which source a conversation comes from. So a
limit holds across workers, at most about a second late. :func:`refresh` reads one mark or
value from Redis at once, for the rare checks that must not be late (is this source
blocked, before a new chat; where does this conversation come from, before a block).

If Redis cannot be reached, every worker goes on counting by itself, which is safe: a limit
can only be reached later, never refuse more. One warning is logged per outage.

Keys hold hashes, never an address in plain text; nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from django.conf import settings

from haven.core import clock
from haven.core.counters import WindowCounters

logger = logging.getLogger(__name__)

_counters = WindowCounters()
_PREFIX = "haven:abuse:"
# How long a Redis call may take before this worker decides alone.
REDIS_TIMEOUT = 0.5


def _key(kind: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
    return f"{kind}:{digest}"


def _now() -> float:
    return clock.now().timestamp()


def hit(kind: str, subject: str, *, window: int, shared: bool = True) -> int:
    """Count one event; the count in the current window (of ``window`` seconds, aligned to
    the clock), across workers as far as known. ``shared=False``: this worker's count only,
    never sent to Redis (for counts whose events all reach one worker)."""
    return _counters.hit(_key(kind, subject), window=window, now=_now(), shared=shared)


def count(kind: str, subject: str, *, window: int) -> int:
    return _counters.count(_key(kind, subject), window=window, now=_now())


def remember(kind: str, subject: str, value: str, *, seconds: int) -> None:
    """Keep ``value`` for ``seconds``. It reaches Redis with this worker's next
    :func:`exchange` (within a second); another worker knows it once it calls
    :func:`refresh` for it, as the checks that need it do."""
    _counters.remember(_key(kind, subject), value, seconds=seconds, now=_now())


def mark(kind: str, subject: str, *, seconds: int) -> None:
    """Set a flag (such as a block) for ``seconds``."""
    remember(kind, subject, "1", seconds=seconds)


def is_marked(kind: str, subject: str) -> bool:
    return recall(kind, subject) is not None


def recall(kind: str, subject: str) -> str | None:
    return _counters.recall(_key(kind, subject), now=_now())


def clear() -> None:
    """Forget everything counted in this process (tests)."""
    _counters.clear()


# --- sharing through Redis -----------------------------------------------------------------

_clients: dict[int, Any] = {}
_outage = False


def _client() -> Any:
    """A Redis client for the running event loop (clients cannot move between loops)."""
    import redis.asyncio as aioredis

    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None:
        client = aioredis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            decode_responses=True,
        )
        _clients.clear()  # a client of a closed loop is of no use
        _clients[id(loop)] = client
    return client


def _failed(exc: BaseException) -> None:
    global _outage
    if not _outage:
        _outage = True
        logger.warning(
            "Redis is unreachable (%s): each worker counts the abuse limits by itself "
            "until it is back.",
            type(exc).__name__,
        )


def _recovered() -> None:
    global _outage
    if _outage:
        _outage = False
        logger.warning("Redis is back: abuse limits are shared between workers again.")


async def exchange() -> None:
    """Report this worker's new hits, marks and values to Redis; learn the totals."""
    if not settings.REDIS_URL:
        return
    now = _now()
    reports = _counters.reports(now=now)
    values = _counters.unsent_values()
    if not (reports or values):
        return
    try:
        async with _client().pipeline(transaction=False) as pipe:
            for report in reports:
                key = _PREFIX + report.shared_key
                pipe.incrby(key, report.hits)
                if report.first:
                    # The key names its window, so setting the expiry again (another
                    # worker's first report) only moves it a little: no NX, which Redis
                    # before 7 does not know.
                    pipe.expire(key, report.length * 2)
            for key, (value, until) in values.items():
                pipe.set(_PREFIX + key, value, ex=max(1, int(until - now)))
            answers = await pipe.execute()
    except Exception as exc:  # any failure: count locally, try again later
        _counters.unreport(reports)
        for key, (value, until) in values.items():
            _counters.remember(key, value, seconds=until - now, now=now)
        _failed(exc)
        return
    _recovered()
    totals = iter(answers)
    for report in reports:
        _counters.absorb(report, int(next(totals)))
        if report.first:
            next(totals)  # the EXPIRE's answer


async def refresh(kind: str, subject: str) -> None:
    """Learn at once what another worker remembered (or marked) for ``subject``: no-op
    without Redis; on failure the local answer stands."""
    if not settings.REDIS_URL:
        return
    key = _key(kind, subject)
    try:
        client = _client()
        async with client.pipeline(transaction=False) as pipe:
            pipe.get(_PREFIX + key)
            pipe.ttl(_PREFIX + key)
            value, ttl = await pipe.execute()
    except Exception as exc:
        _failed(exc)
        return
    _recovered()
    if value is None or ttl is None or ttl <= 0:
        return
    _counters.learn_value(key, value, until=_now() + ttl)
