"""Haven's database threads: reads in a pool, writes committed together (haven.core.db)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from django.db import DatabaseError, transaction

from haven.chat.models import Conversation
from haven.chat.services import ChatError
from haven.core import clock, db

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def make(name: str) -> str:
    Conversation.objects.create(token_hash=name, created_at=clock.now())
    return name


def exists(name: str) -> bool:
    return Conversation.objects.filter(token_hash=name).exists()


def make_then_refuse(name: str) -> None:
    with transaction.atomic():
        make(name)
        raise ChatError("no")


@transaction.atomic(savepoint=False)
def make_many(names: list[str]) -> list[str]:
    """A batched function; a name "bad" fails the database work of the whole call."""
    if "bad" in names:
        raise DatabaseError("cannot")
    return [make(name) for name in names]


class Gate:
    """A write that holds the writer until opened, so that others queue behind it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self) -> str:
        self.entered.set()
        assert self.opened.wait(10)
        return make("gate")


@pytest.fixture
def batches(monkeypatch):  # type: ignore[no-untyped-def]
    """The sizes of the batches the writer commits."""
    sizes: list[int] = []
    run = db._Writer._run

    def spy(self, jobs):  # type: ignore[no-untyped-def]
        sizes.append(len(jobs))
        return run(self, jobs)

    monkeypatch.setattr(db._Writer, "_run", spy)
    return sizes


async def hold_writer() -> tuple[Gate, asyncio.Future[str]]:
    gate = Gate()
    held = asyncio.ensure_future(db.write(gate))
    assert await asyncio.to_thread(gate.entered.wait, 10)
    return gate, held


async def test_writes_that_wait_together_are_committed_together(batches) -> None:  # type: ignore[no-untyped-def]
    """While the writer is busy, the writes that queue up go in its next transaction, and
    each caller gets its own result once that transaction has committed."""
    gate, held = await hold_writer()
    writes = [asyncio.ensure_future(db.write(make, f"w{i}")) for i in range(10)]
    await asyncio.sleep(0.05)
    assert not any(w.done() for w in writes)
    gate.opened.set()
    assert await held == "gate"
    assert await asyncio.gather(*writes) == [f"w{i}" for i in range(10)]
    assert batches == [1, 10]
    # Committed by then: a database thread (another connection) sees every row.
    assert await db.read(lambda: Conversation.objects.count()) == 11


async def test_a_refused_write_rolls_back_alone() -> None:
    """A job that raises (a refusal) is rolled back to its savepoint and told so; the jobs
    around it in the same transaction are stored."""
    gate, held = await hold_writer()
    before = asyncio.ensure_future(db.write(make, "before"))
    refused = asyncio.ensure_future(db.write(make_then_refuse, "refused"))
    after = asyncio.ensure_future(db.write(make, "after"))
    gate.opened.set()
    await held
    assert await before == "before" and await after == "after"
    with pytest.raises(ChatError):
        await refused
    assert await db.read(lambda: [exists("before"), exists("refused"), exists("after")]) == [
        True,
        False,
        True,
    ]


async def test_consecutive_items_share_one_call_and_a_failed_call_is_tried_alone() -> None:
    """Items for the same batched function go to one call. When that call fails the
    database work (without a savepoint), nothing of the transaction is committed, and each
    job is tried again in a transaction of its own: only the bad one fails."""
    gate, held = await hold_writer()
    good = [db.submit_batched(make_many, name) for name in ("a", "b")]
    bad = db.submit_batched(make_many, "bad")
    last = db.submit_batched(make_many, "c")
    gate.opened.set()
    await held
    assert [await f for f in good] == ["a", "b"] and await last == "c"
    with pytest.raises(DatabaseError):
        await bad
    assert await db.read(
        lambda: sorted(Conversation.objects.values_list("token_hash", flat=True))
    ) == [
        "a",
        "b",
        "c",
        "gate",
    ]


async def test_reads_do_not_wait_behind_a_write() -> None:
    """Reads run in their own threads: a slow write holds up no read."""
    gate, held = await hold_writer()
    assert await asyncio.wait_for(db.read(lambda: Conversation.objects.count()), 5) == 0
    gate.opened.set()
    await held


async def test_a_write_is_in_the_callers_language() -> None:
    """A job runs with the caller's context: a refusal made in it speaks the caller's
    language."""
    from django.utils import translation
    from django.utils.translation import gettext

    def refuse() -> None:
        raise ChatError(gettext("This chat has ended."))

    translation.activate("en")
    with pytest.raises(ChatError) as english:
        await db.write(refuse)
    translation.activate("nl")
    with pytest.raises(ChatError) as dutch:
        await db.write(refuse)
    assert english.value.message == "This chat has ended."
    assert dutch.value.message != english.value.message


async def test_a_lock_is_taken_for_rows_that_exist(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    """Jobs name the rows they lock; the writer locks them in key order first (PostgreSQL),
    and a missing row is no error."""
    missing = uuid.uuid4()
    assert await db.write(make, "locked", lock=(Conversation, missing)) == "locked"
