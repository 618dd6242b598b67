"""Counters in the cache for abuse limits and sign-in throttling.

Fixed windows: the first event starts a window of ``window`` seconds; the limit is reached
when the count in that window gets to ``limit``. Keys hold hashes, never an address or a
user name in plain text.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def _key(kind: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
    return f"limit:{kind}:{digest}"


def hit(kind: str, subject: str, *, window: int) -> int:
    """Count one event; returns the count in the current window."""
    key = _key(kind, subject)
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def count(kind: str, subject: str) -> int:
    return int(cache.get(_key(kind, subject), 0))


def exceeded(kind: str, subject: str, *, limit: int) -> bool:
    return count(kind, subject) >= limit


def reset(kind: str, subject: str) -> None:
    cache.delete(_key(kind, subject))
