"""The message streams' storage on the hot path: a batch of messages in a few statements.

:func:`haven.chat.services.messages_send` stores every message of a writer batch at once
and uses these functions for the SQL. They are written out rather than built by the ORM
because building statements was most of the cost of storing a message (measured: a
two-line ``filter()`` took 0.8-1.3 ms to compile here, the database 0.05 ms to answer;
``bulk_create`` and ``bulk_update`` 0.2-1 ms a row). Values still go through their model
fields (so message text is encrypted as ever), and every statement is plain SQL that
SQLite and PostgreSQL both run. Nothing here decides anything: that stays in services.

On PostgreSQL each statement takes a batch as a few array parameters (``= ANY(%s)``,
``unnest``), written out here as array literals, instead of one placeholder per value: the
statements' text is then the same for every batch (psycopg parses it once and caches it)
and the cost of passing a batch is a string join, where psycopg's binding of one
placeholder per value cost 30-50 us a message (measured; a tenth of the writer's time).

Preconditions: called inside a transaction; on PostgreSQL :func:`read_batch` locks the rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from haven.chat.models import Conversation, Message
from haven.core import crypto

# Rows per INSERT: far below every database's limit on parameters (8 per row).
INSERT_ROWS = 500


@dataclass
class Head:
    """What storing a message needs to know of its conversation (a locked row)."""

    id: uuid.UUID
    status: str
    counsellor_id: int | None
    last_seq: int
    created_at: dt.datetime
    # For the queue entry a waiting visitor's message refreshes (the console's name for it).
    day_number: int = 0
    language: str = ""
    returning: bool = False
    # Raised in the queue by the team's danger terms (haven.chat.danger).
    danger: bool = False


def _q(name: str | None) -> str:
    return connection.ops.quote_name(str(name))


def _table(model: type[Conversation] | type[Message]) -> str:
    return _q(model._meta.db_table)


def _key(value: uuid.UUID) -> Any:
    """A conversation id as the database stores it (text on SQLite, uuid on PostgreSQL)."""
    return Conversation._meta.get_field("id").get_db_prep_value(value, connection)


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _aware(value: object) -> dt.datetime:
    """A timestamp as read: aware on PostgreSQL, naive UTC text on SQLite (USE_TZ)."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        parsed = parse_datetime(str(value))
        assert parsed is not None, value
        moment = parsed
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def _array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of ``values`` (text, numbers, uuids; ``None`` is NULL),
    for a ``%s::type[]`` parameter. Every element is quoted, so no value can end it early:
    a backslash and a double quote are escaped, as the array input syntax requires."""
    return (
        "{"
        + ",".join(
            "NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
            for v in values
        )
        + "}"
    )


def _arrays() -> bool:
    return connection.vendor == "postgresql"


Statement = tuple[str, list[Any]]


def _run(statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
    """Run statements in order; the rows of each. On PostgreSQL they go in one round trip
    (one text, several statements: Django's psycopg cursors bind on the client, which
    allows that), so a batch waits for the database twice, not once a statement. SQLite is
    in this process: there each runs on its own."""
    results: list[list[tuple[Any, ...]]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            cursor.execute(
                "; ".join(sql for sql, _ in statements),
                [value for _, params in statements for value in params],
            )
            for index in range(len(statements)):
                results.append(cursor.fetchall() if cursor.description else [])
                if index + 1 < len(statements):
                    cursor.nextset()
            return results
        for sql, params in statements:
            cursor.execute(sql, params)
            results.append(cursor.fetchall() if cursor.description else [])
    return results


def read_batch(
    ids: Iterable[uuid.UUID], client_ids: Iterable[str]
) -> tuple[dict[uuid.UUID, Head], set[tuple[uuid.UUID, str, str]]]:
    """A batch's conversations, read and (on PostgreSQL) locked in key order, and which of
    its (conversation, sender, client_id) are stored already (resends)."""
    keys, names = sorted(ids), sorted(set(client_ids))
    if _arrays():
        lock, in_keys, key_params = " FOR UPDATE", "= ANY(%s::uuid[])", [_array(keys)]
        in_names, name_params = "= ANY(%s::text[])", [_array(names)]
    else:
        lock, in_keys, key_params = "", f"IN ({_marks(len(keys))})", [_key(k) for k in keys]
        in_names, name_params = f"IN ({_marks(len(names))})", names
    statements: list[Statement] = [
        (
            f"SELECT {_q('id')}, {_q('status')}, {_q('counsellor_id')}, {_q('last_seq')}, "
            f"{_q('created_at')}, {_q('day_number')}, {_q('language')}, {_q('returning')}, "
            f"{_q('danger_at')} "
            f"FROM {_table(Conversation)} "
            f"WHERE {_q('id')} {in_keys} ORDER BY {_q('id')}{lock}",
            key_params,
        )
    ]
    if names:
        statements.append(
            (
                f"SELECT {_q('conversation_id')}, {_q('sender')}, {_q('client_id')} "
                f"FROM {_table(Message)} WHERE {_q('conversation_id')} {in_keys} "
                f"AND {_q('client_id')} {in_names} "
                # The unique index's own condition, so that SQLite may use that partial index.
                f"AND NOT ({_q('client_id')} = '')",
                [*key_params, *name_params],
            )
        )
    rows = _run(statements)
    heads = [
        Head(_uuid(r[0]), r[1], r[2], r[3], _aware(r[4]), r[5], r[6], bool(r[7]), r[8] is not None)
        for r in rows[0]
    ]
    resends = {(_uuid(c), sender, client) for c, sender, client in (rows[1] if names else [])}
    return {head.id: head for head in heads}, resends


# The columns of a new message, in the order of :func:`_row`.
_MESSAGE_COLUMNS = (
    "conversation_id",
    "seq",
    "sender",
    "kind",
    "text",
    "client_id",
    "author_id",
    "created_at",
)


def _row(message: Message, created_at: Any) -> tuple[Any, ...]:
    """A new message's values as the database takes them. The text is encrypted as its
    field (EncryptedTextField) would: an empty text stays empty, any other is a token."""
    return (
        _key(message.conversation_id),
        message.seq,
        message.sender,
        message.kind,
        crypto.encrypt_text(message.text) if message.text else "",
        message.client_id,
        message.author_id,
        created_at,
    )


def write_batch(messages: Sequence[Message], heads: Iterable[Head]) -> None:
    """Insert new messages (not saved before), giving them their primary keys, and write
    their conversations' last sequence numbers. Precondition: the messages share one
    ``created_at`` (a batch's)."""
    if not messages:
        return
    if _arrays():
        _write_batch_arrays(messages, sorted(heads, key=lambda h: h.id))
        return
    created_at = connection.ops.adapt_datetimefield_value(messages[0].created_at)
    head = f"INSERT INTO {_table(Message)} ({', '.join(_q(c) for c in _MESSAGE_COLUMNS)}) "
    row = f"({_marks(len(_MESSAGE_COLUMNS))})"
    chunks = [messages[i : i + INSERT_ROWS] for i in range(0, len(messages), INSERT_ROWS)]
    statements: list[Statement] = [
        (
            f"{head}VALUES {', '.join([row] * len(chunk))} RETURNING {_q('id')}",
            [value for m in chunk for value in _row(m, created_at)],
        )
        for chunk in chunks
    ]
    # Every conversation's last number in one statement: a CASE on the id.
    ordered = sorted(heads, key=lambda h: h.id)
    cases = " ".join(["WHEN %s THEN %s"] * len(ordered))
    params: list[Any] = []
    for h in ordered:
        params += [_key(h.id), h.last_seq]
    params += [_key(h.id) for h in ordered]
    statements.append(
        (
            f"UPDATE {_table(Conversation)} SET {_q('last_seq')} = CASE {_q('id')} {cases} END "
            f"WHERE {_q('id')} IN ({_marks(len(ordered))})",
            params,
        )
    )
    results = _run(statements)
    for chunk, ids in zip(chunks, results, strict=False):
        for message, (pk,) in zip(chunk, ids, strict=True):
            message.pk = pk
            message._state.adding = False


# On PostgreSQL: the columns of a new message but the last (``created_at``, one for the whole
# batch, passed once) as arrays, with their types (the text ones as text, which the varchar
# columns take).
_ARRAY_TYPES = {
    "conversation_id": "uuid",
    "seq": "bigint",
    "sender": "text",
    "kind": "text",
    "text": "text",
    "client_id": "text",
    "author_id": "bigint",
}
assert list(_ARRAY_TYPES) == list(_MESSAGE_COLUMNS[:-1]) and _MESSAGE_COLUMNS[-1] == "created_at"


def _write_batch_arrays(messages: Sequence[Message], ordered: Sequence[Head]) -> None:
    """write_batch on PostgreSQL: the same two statements, each with a fixed text. The keys
    come back with (conversation, seq), which identify a message, so nothing depends on
    the order in which RETURNING gives the rows."""
    # Each column of the batch, from the rows write_batch would insert, but created_at.
    columns = list(zip(*(_row(m, None) for m in messages), strict=True))[:-1]
    unnest = ", ".join(f"%s::{kind}[]" for kind in _ARRAY_TYPES.values())
    insert = (
        f"INSERT INTO {_table(Message)} ({', '.join(_q(c) for c in _MESSAGE_COLUMNS)}) "
        f"SELECT *, %s::timestamptz FROM unnest({unnest}) "
        f"RETURNING {_q('id')}, {_q('conversation_id')}, {_q('seq')}"
    )
    t = _table(Conversation)
    update = (
        f"UPDATE {t} SET {_q('last_seq')} = v.seq "
        f"FROM unnest(%s::uuid[], %s::bigint[]) AS v(id, seq) WHERE {t}.{_q('id')} = v.id"
    )
    returned, _ = _run(
        [
            (insert, [messages[0].created_at, *(_array(column) for column in columns)]),
            (update, [_array(h.id for h in ordered), _array(h.last_seq for h in ordered)]),
        ]
    )
    keys = {(_uuid(conversation), seq): pk for pk, conversation, seq in returned}
    for message in messages:
        message.pk = keys[(message.conversation_id, message.seq)]
        message._state.adding = False


def visitor_message_counts(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many messages each conversation's visitor has written (for the queue)."""
    keys = sorted(ids)
    sql = (
        f"SELECT {_q('conversation_id')}, COUNT(*) FROM {_table(Message)} "
        f"WHERE {_q('conversation_id')} IN ({_marks(len(keys))}) AND {_q('sender')} = %s "
        f"GROUP BY {_q('conversation_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(_key(k) for k in keys), Message.Sender.VISITOR])
        return {_uuid(c): n for c, n in cursor.fetchall()}
