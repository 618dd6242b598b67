"""Where the sockets' database work runs, so that nobody queues behind everybody else.

Channels' ``database_sync_to_async`` runs every call of a process in one thread and opens
and closes a connection for each. Under a surge every visitor and counsellor then waits
behind everyone else's calls. Instead:

* **Reads** (:func:`read`) run in a bounded pool of ``HAVEN_DB_THREADS`` threads. Each thread
  keeps its own connection open for as long as it lives (closed and opened again only after
  an error that left it unusable), so there is no connect, and on SQLite no checkpoint, per
  call.
* **Writes** (:func:`write`, :func:`write_batched`) go to the process's one writer thread.
  It takes every job waiting at that moment (up to ``HAVEN_WRITE_BATCH``) and runs them in
  one transaction: one commit, one fsync, for all of them (group commit). Each job runs in a
  savepoint, so a refused one (a :class:`ChatError`, say) rolls back alone. A job's result
  is handed back only after the commit, so a message is stored before it is acknowledged,
  and nothing of a batch that fails to commit is reported as done. Jobs that lock rows say
  which (``lock=(Model, pk)``); on PostgreSQL the writer locks all of a batch's named rows
  first, in key order, so two workers' batches do not deadlock over them. Rows a job changes
  without naming them (the presence heartbeat's) could still deadlock in rare cases;
  PostgreSQL then refuses one of the writes, and nothing refused is reported as stored
  (clients send again).

Broadcasts registered by services with ``transaction.on_commit`` run in these threads after
the commit; :mod:`haven.core.broadcast` hands them to the event loop without waiting.

Preconditions: called from async code (a consumer); jobs are plain sync functions that do
not start threads of their own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Model
from django.utils import translation

from haven.core import metrics, outage
from haven.core.broadcast import bound_to

logger = logging.getLogger(__name__)

T = TypeVar("T")
Lock = tuple[type[Model], Any]


def _tidy_connections() -> None:
    """After a call: close a connection that an error left unusable (the next call opens a
    new one); keep a healthy one open. Django's own check would also close connections
    by age, which is what these threads avoid."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        if conn.in_atomic_block or conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]:
            conn.close()  # a call left a transaction open: start clean
        elif conn.errors_occurred:
            if conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()


_seen = threading.local()


def _fresh_after_outage() -> None:
    """Before a call in one of Haven's threads: if the database has been away since this
    thread last looked, close its connections that no longer work, so that the call gets
    a new one instead of failing (and being taken for a new outage). One check per thread
    per outage."""
    outages = outage.database.outages
    if getattr(_seen, "outages", outages) != outages:
        for conn in connections.all(initialized_only=True):
            if conn.connection is not None and not conn.is_usable():
                conn.close()
    _seen.outages = outages


def _usable() -> bool:
    """Whether this thread's connection still works (after an error)."""
    try:
        return connection.connection is not None and connection.is_usable()
    except Exception:
        return False


class _Threads:
    """A few threads that run calls from an inbox and own their connections."""

    def __init__(self, name: str, size: int, target: Callable[[queue.SimpleQueue[Any]], None]):
        self.name, self.size, self.target = name, size, target
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def put(self, item: Any) -> None:
        if len(self.threads) < self.size:
            self._start()
        self.inbox.put(item)

    def _start(self) -> None:
        with self.lock:
            while len(self.threads) < self.size:
                thread = threading.Thread(
                    target=self._main, name=f"{self.name}-{len(self.threads)}", daemon=True
                )
                thread.start()
                self.threads.append(thread)

    def _main(self) -> None:
        try:
            self.target(self.inbox)
        finally:
            connections.close_all()

    def stop(self) -> None:
        with self.lock:
            threads, self.threads = self.threads, []
            for _ in threads:
                self.inbox.put(None)
        for thread in threads:
            thread.join(timeout=10)


# --- reads -----------------------------------------------------------------------------------


def _reader(inbox: queue.SimpleQueue[Any]) -> None:
    while True:
        item = inbox.get()
        if item is None:
            return
        call, future, loop = item
        if not future.set_running_or_notify_cancel():
            continue
        try:
            _fresh_after_outage()
            with bound_to(loop):
                result = call()
        except BaseException as exc:  # handed to the awaiting coroutine
            if outage.is_database_error(exc):
                outage.database.failed(exc)
            future.set_exception(exc)
        else:
            outage.database.recovered()
            future.set_result(result)
        finally:
            _tidy_connections()


_readers: _Threads | None = None


def _reader_threads() -> _Threads:
    global _readers
    if _readers is None:
        _readers = _Threads("haven-db", settings.HAVEN_DB_THREADS, _reader)
    return _readers


def _in_language(language: str | None, call: Callable[[], T]) -> T:
    """Run ``call`` with ``language`` active: the caller's, so that what it says (a refusal)
    is in the caller's words. (Context variables do not carry Django's active language into
    another thread: asgiref keeps that storage to the thread that set it.)"""
    if not language:
        return call()
    with translation.override(language):
        return call()


async def read(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in a database thread, in the caller's language, and
    return its result."""
    loop = asyncio.get_running_loop()
    future: concurrent.futures.Future[T] = concurrent.futures.Future()
    call = functools.partial(
        _in_language, translation.get_language(), functools.partial(fn, *args, **kwargs)
    )
    started = time.monotonic()
    _reader_threads().put((call, future, loop))
    try:
        return await asyncio.wrap_future(future)
    finally:
        metrics.database_seconds.labels("read").observe(time.monotonic() - started)


# --- writes ----------------------------------------------------------------------------------


@dataclass
class _Job:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    language: str | None  # the caller's (see _in_language)
    lock: Lock | None
    call: Callable[[], Any] | None = None  # one call in a savepoint
    batched: Callable[[list[Any]], list[Any]] | None = None  # many items, one call
    item: Any = None
    outcome: tuple[bool, Any] | None = field(default=None)


def _settle(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    """On the event loop: hand every job of a batch its result."""
    for future, ok, value in outcomes:
        if future.done():
            continue  # the caller stopped waiting (its socket closed)
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class _Writer:
    def __init__(self) -> None:
        self.threads = _Threads("haven-writer", 1, self._main)

    def submit(self, job: _Job) -> None:
        self.threads.put(job)

    def _main(self, inbox: queue.SimpleQueue[Any]) -> None:
        limit = settings.HAVEN_WRITE_BATCH
        while True:
            first = inbox.get()
            if first is None:
                return
            jobs = [first]
            stop = False
            while len(jobs) < limit:
                try:
                    job = inbox.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
            started = time.monotonic()
            try:
                _fresh_after_outage()
                self._run(jobs)
            except BaseException as exc:  # never lose the thread
                logger.exception("The writer failed a batch")
                for job in jobs:
                    if job.outcome is None or job.outcome[0]:
                        job.outcome = (False, exc)
            finally:
                _tidy_connections()
                metrics.database_seconds.labels("write_batch").observe(time.monotonic() - started)
            self._deliver(jobs)
            if stop:
                return

    def _run(self, jobs: list[_Job]) -> None:
        try:
            with transaction.atomic():
                self._lock_rows(jobs)
                self._run_inside(jobs)
                if connection.needs_rollback:
                    # A batched function failed without a savepoint of its own: nothing of
                    # this transaction may be committed.
                    raise DatabaseError("a write in the batch failed")
        except DatabaseError as exc:
            # Nothing of the batch is stored. A conflict (a deadlock, a serialisation
            # failure) may clear on its own: each job is tried once more on its own. A lost
            # connection is not retried here: the clients resend.
            usable = _usable()
            if len(jobs) > 1 and usable:
                for job in jobs:
                    job.outcome = None
                    self._run([job])
                return
            if usable:
                logger.warning("A write was refused by the database: %s", type(exc).__name__)
            else:
                outage.database.failed(exc)  # one line per outage, not one per batch
            for job in jobs:
                if job.outcome is None or job.outcome[0]:
                    job.outcome = (False, exc)
        else:
            outage.database.recovered()

    def _lock_rows(self, jobs: list[_Job]) -> None:
        """On PostgreSQL, lock every row the batch will change, in key order, up front."""
        if not connection.features.has_select_for_update:
            return  # SQLite: the write transaction (BEGIN IMMEDIATE) already excludes others
        if all(job.batched is not None and job.batched is jobs[0].batched for job in jobs):
            return  # one batched call, which locks its rows in key order itself
        by_model: defaultdict[type[Model], set[Any]] = defaultdict(set)
        for job in jobs:
            if job.lock is not None:
                by_model[job.lock[0]].add(job.lock[1])
        for model in sorted(by_model, key=lambda m: m._meta.label):
            keys = sorted(by_model[model], key=str)
            list(
                model._default_manager.select_for_update()
                .filter(pk__in=keys)
                .order_by("pk")
                .values_list("pk", flat=True)
            )

    def _run_inside(self, jobs: list[_Job]) -> None:
        index = 0
        while index < len(jobs):
            job = jobs[index]
            if job.batched is None:
                job.outcome = self._call(job)
                index += 1
                continue
            # Consecutive items for the same function: one call.
            end = index + 1
            while end < len(jobs) and jobs[end].batched is job.batched:
                end += 1
            run = jobs[index:end]
            index = end
            try:
                # No savepoint of the writer's own: a batched function is atomic itself
                # (precondition). It may run without a savepoint (messages_send does, to
                # save a round trip): then a failure marks the whole transaction for
                # rollback, and the writer runs the batch's jobs again one by one.
                with bound_to(job.loop):
                    results = _in_language(
                        job.language, functools.partial(job.batched, [j.item for j in run])
                    )
            except Exception as exc:  # its savepoint is rolled back
                for j in run:
                    j.outcome = (False, exc)
                continue
            for j, result in zip(run, results, strict=True):
                j.outcome = (False, result) if isinstance(result, Exception) else (True, result)

    @staticmethod
    def _call(job: _Job) -> tuple[bool, Any]:
        assert job.call is not None
        try:
            with transaction.atomic(), bound_to(job.loop):
                return True, _in_language(job.language, job.call)
        except Exception as exc:  # the savepoint is rolled back
            return False, exc

    @staticmethod
    def _deliver(jobs: Sequence[_Job]) -> None:
        by_loop: defaultdict[asyncio.AbstractEventLoop, list[Any]] = defaultdict(list)
        for job in jobs:
            ok, value = job.outcome or (False, RuntimeError("not run"))
            by_loop[job.loop].append((job.future, ok, value))
        for loop, outcomes in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
                loop.call_soon_threadsafe(_settle, outcomes)


_writer: _Writer | None = None


def _the_writer() -> _Writer:
    global _writer
    if _writer is None:
        _writer = _Writer()
    return _writer


def _submit(**job: Any) -> asyncio.Future[Any]:
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    _the_writer().submit(_Job(loop=loop, future=future, language=translation.get_language(), **job))
    return future


async def write(fn: Callable[..., T], /, *args: Any, lock: Lock | None = None, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in the writer, in a savepoint of the next batch; return its
    result once that batch has committed."""
    return await _submit(call=functools.partial(fn, *args, **kwargs), lock=lock)  # type: ignore[no-any-return]


def submit_batched(
    fn: Callable[[list[Any]], list[Any]], item: Any, *, lock: Lock | None = None
) -> asyncio.Future[Any]:
    """Like :func:`write`, for a function of many items: consecutive items for the same
    ``fn`` in a batch are passed to one call, which returns one result per item (an
    exception instance for an item that was refused). Precondition: ``fn`` is atomic
    (``@transaction.atomic``) and has no effect when it raises. Returns at once (the item is queued
    now, so items are written in the order they were submitted); the future has the result
    after the commit."""
    return _submit(batched=fn, item=item, lock=lock)


async def write_batched(
    fn: Callable[[list[Any]], list[Any]], item: Any, *, lock: Lock | None = None
) -> Any:
    """:func:`submit_batched`, awaited."""
    return await submit_batched(fn, item, lock=lock)


def stop() -> None:
    """Stop the threads and close their connections (at shutdown, and after each test).
    They start again on the next call."""
    global _readers, _writer
    readers, writer = _readers, _writer
    _readers = _writer = None
    if writer is not None:
        writer.threads.stop()
    if readers is not None:
        readers.stop()
