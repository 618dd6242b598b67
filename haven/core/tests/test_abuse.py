"""The chat's abuse limits: in memory, shared between workers through Redis (haven.core.abuse).

The sharing needs Redis: these tests use REDIS_URL when it is set (the services run) and
otherwise the machine's Redis on 127.0.0.1:6379, database 14; they skip without one, and
fail in CI.
"""

from __future__ import annotations

import os

import pytest

from haven.conftest import skip_or_fail
from haven.core import abuse


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        skip_or_fail(f"Redis is not reachable at {url}")
    return url


@pytest.fixture
def shared(settings):  # type: ignore[no-untyped-def]
    """Abuse limits shared through a real Redis, with this test's keys removed after."""
    import redis

    settings.REDIS_URL = _redis_url()
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    for key in client.scan_iter("haven:abuse:*"):
        client.delete(key)


def test_without_redis_a_worker_counts_alone(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = ""
    assert [abuse.hit("starts", "src", window=3600) for _ in range(3)] == [1, 2, 3]
    abuse.mark("blocked-source", "src", seconds=60)
    assert abuse.is_marked("blocked-source", "src")
    assert not abuse.is_marked("blocked-source", "other")


async def test_hits_are_added_up_across_workers(shared) -> None:  # type: ignore[no-untyped-def]
    """This worker reports its hits; another worker's hits (here: written to Redis as that
    worker would) come back in the total, so the limit holds for both together."""
    for _ in range(3):
        abuse.hit("starts", "src", window=3600)
    await abuse.exchange()
    (key,) = [k for k in shared.scan_iter("haven:abuse:starts:*")]
    assert int(shared.get(key)) == 3
    assert 3600 < shared.ttl(key) <= 7200
    shared.incrby(key, 5)  # the other worker
    abuse.hit("starts", "src", window=3600)
    await abuse.exchange()
    assert abuse.count("starts", "src", window=3600) == 9
    assert int(shared.get(key)) == 9


async def test_per_conversation_counts_stay_with_their_worker(shared) -> None:  # type: ignore[no-untyped-def]
    abuse.hit("messages-conversation", "c", window=60, shared=False)
    await abuse.exchange()
    assert list(shared.scan_iter("haven:abuse:messages-conversation:*")) == []


async def test_a_block_made_on_one_worker_holds_on_another_at_once(shared) -> None:  # type: ignore[no-untyped-def]
    """The mark reaches Redis with the next exchange; a worker asked for a new chat from that
    source reads it first (refresh) and refuses."""
    abuse.mark("blocked-source", "abuser", seconds=600)
    await abuse.exchange()
    abuse.clear()  # now this process is "the other worker": it knows nothing yet
    assert not abuse.is_marked("blocked-source", "abuser")
    await abuse.refresh("blocked-source", "abuser")
    assert abuse.is_marked("blocked-source", "abuser")


async def test_when_redis_is_away_each_worker_counts_alone_and_says_so_once(
    settings, caplog
) -> None:  # type: ignore[no-untyped-def]
    """Nothing fails and nothing waits long: counts go on locally, and are reported when
    Redis is back."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    abuse.hit("starts", "src", window=3600)
    await abuse.exchange()
    await abuse.exchange()
    await abuse.refresh("blocked-source", "src")
    assert abuse.count("starts", "src", window=3600) == 1
    warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 1
    abuse._outage = False
