"""A visitor's source, for abuse limits, without keeping their address.

The address is turned into an HMAC under a random key that exists only for one day (UTC)
and only in memory: in this process's cache, or in Redis with an expiry, so every worker
hashes alike. The address itself is dropped at once. Nothing stored can lead back to an
address: without the key, which is gone the next day, a hash cannot be matched to one.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from typing import Any

from django.core.cache import cache

from haven.core import clock

SCOPE_KEY = "haven.source"
# Keys live a little longer than their day, so a request at 23:59:59 still finds its key.
_KEY_LIFETIME = 26 * 60 * 60
_memo: dict[str, bytes] = {}
# While the shared cache is away: this process's own key for the day, and when to ask the
# cache again.
_local: dict[str, tuple[bytes, float]] = {}
_RETRY_SECONDS = 30.0


def _day() -> str:
    return clock.now().strftime("%Y-%m-%d")


async def _daily_key() -> bytes:
    day = _day()
    key = _memo.get(day)
    if key is not None:
        return key
    local = _local.get(day)
    if local is not None and time.monotonic() < local[1]:
        return local[0]
    cache_key = f"source-key:{day}"
    try:
        await cache.aadd(cache_key, secrets.token_hex(32), timeout=_KEY_LIFETIME)
        stored = await cache.aget(cache_key)
        key = bytes.fromhex(stored)
    except Exception:
        # The shared cache (Redis) is away, at a worker's start or at midnight: hash with
        # this process's own key meanwhile, so that every request (a visitor's, a probe's)
        # is still served. The abuse limits then count per worker, as they do during an
        # outage anyway; the shared key is asked for again a little later.
        previous = _local.get(day)
        own = previous[0] if previous else secrets.token_bytes(32)
        _local.clear()
        _local[day] = (own, time.monotonic() + _RETRY_SECONDS)
        return own
    _memo.clear()  # yesterday's key goes
    _local.clear()
    _memo[day] = key
    return key


def _network(address: str) -> str:
    """The part of an address that stands for one place: an IPv6 address by its /64 (one
    home or phone network, which hands out any number of addresses within it); an IPv4
    address whole."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address) + "/64"
    return str(ip)


async def source_id(address: str) -> str:
    """The keyed hash of ``address`` (an IPv6 address by its /64) for today."""
    key = await _daily_key()
    return hmac.new(key, _network(address).encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def source_of(scope_or_request: Any) -> str | None:
    """The source id put in the ASGI scope by :mod:`haven.core.asgi_privacy`, if any."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    if isinstance(scope, dict):
        value = scope.get(SCOPE_KEY)
        return value if isinstance(value, str) else None
    return None


def forget_keys() -> None:
    """Drop the in-process memo (tests move the clock across days)."""
    _memo.clear()
    _local.clear()
