"""Visitor sources: a keyed hash under a key that lives one day, never the address."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from haven.core import sources
from haven.core.asgi_privacy import StripClientAddress

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def _fresh_keys():  # type: ignore[no-untyped-def]
    cache.clear()
    sources.forget_keys()
    yield
    cache.clear()
    sources.forget_keys()


async def test_same_address_same_day_same_hash_and_no_address_in_it(clock) -> None:
    first = await sources.source_id("203.0.113.9")
    assert first == await sources.source_id("203.0.113.9")
    assert first != await sources.source_id("203.0.113.10")
    assert len(first) == 32 and set(first) <= set("0123456789abcdef")


async def test_an_ipv6_network_is_one_source(clock) -> None:
    """A phone or home network gets a whole /64 and may use any address in it: limits
    count the /64, so changing the last half of the address gives no fresh tries. An IPv4
    address written as IPv6 is the same IPv4 source."""
    one = await sources.source_id("2001:db8:1:2::1")
    assert one == await sources.source_id("2001:db8:1:2:ffff:ffff:ffff:fffe")
    assert one != await sources.source_id("2001:db8:1:3::1")
    assert await sources.source_id("::ffff:203.0.113.9") == await sources.source_id("203.0.113.9")


async def test_the_key_changes_every_day(clock) -> None:
    """Tomorrow the same address hashes differently: nothing links the two days."""
    today = await sources.source_id("203.0.113.9")
    clock.advance(days=1)
    tomorrow = await sources.source_id("203.0.113.9")
    assert today != tomorrow


async def test_the_wrapper_hands_on_only_the_hash(clock) -> None:
    seen: dict = {}  # type: ignore[type-arg]

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        seen.update(scope)

    await StripClientAddress(app)(
        {"type": "http", "client": ("198.51.100.4", 443), "headers": []},
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
    )
    assert seen["client"] is None
    assert seen[sources.SCOPE_KEY] == await sources.source_id("198.51.100.4")
    assert "198.51.100.4" not in repr(seen)


async def test_a_cache_that_is_away_does_not_stop_a_request(clock, monkeypatch) -> None:
    """Redis away at a worker's start or at midnight: the source is still hashed (with the
    process's own key, the same for every request meanwhile); once the cache answers again
    (after the retry pause) the shared key is used."""

    async def away(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("no Redis")

    monkeypatch.setattr(cache, "aadd", away)
    monkeypatch.setattr(sources, "_RETRY_SECONDS", 0.0)  # ask the cache at every request
    first = await sources.source_id("203.0.113.9")
    assert first == await sources.source_id("203.0.113.9")
    assert first != await sources.source_id("203.0.113.10")

    monkeypatch.undo()
    shared = await sources.source_id("203.0.113.9")
    assert shared != first  # the shared key, now that the cache answers
    assert cache.get(f"source-key:{sources._day()}") is not None


async def test_a_probe_gets_no_source(clock, monkeypatch) -> None:
    """/healthz, /livez and /metrics are served without a source (nor the cache it needs)."""
    seen: dict = {}  # type: ignore[type-arg]

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        seen.update(scope)

    async def unused(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the cache was asked for a probe")

    monkeypatch.setattr(cache, "aadd", unused)
    for path in ("/healthz", "/livez", "/metrics"):
        seen.clear()
        await StripClientAddress(app)(
            {"type": "http", "path": path, "client": ("198.51.100.4", 80), "headers": []},
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
        )
        assert seen["client"] is None and sources.SCOPE_KEY not in seen
