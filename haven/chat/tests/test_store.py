"""The hot path's statements (haven.chat.store), on both databases."""

from __future__ import annotations

import pytest

from haven.chat import services, store
from haven.chat.models import Conversation, Message
from haven.core import clock

pytestmark = pytest.mark.django_db


def test_a_new_message_is_written_with_every_column_of_the_model() -> None:
    """The columns spelled out for the INSERT are exactly the model's (but the id): a new
    field would otherwise be left out of every chat message without a word."""
    columns = {f.column for f in Message._meta.concrete_fields if not f.primary_key}
    assert set(store._MESSAGE_COLUMNS) == columns


def test_a_batch_is_read_locked_and_written() -> None:
    """read_batch gives each conversation's state and the resends; write_batch stores the
    new messages with their keys, encrypted, and the conversations' last numbers."""
    first, _ = services.conversation_start(language="nl")
    second, _ = services.conversation_start(language="nl")
    services.message_send(conversation_id=first.id, sender="visitor", text="al", client_id="c1")
    heads, resends = store.read_batch([first.id, second.id], ["c1", "c2"])
    assert {h: (heads[h].status, heads[h].last_seq) for h in heads} == {
        first.id: ("waiting", 1),
        second.id: ("waiting", 0),
    }
    assert resends == {(first.id, "visitor", "c1")}
    now = clock.now()
    heads[second.id].last_seq = 2
    new = [
        Message(
            conversation_id=second.id,
            seq=n,
            sender="visitor",
            text=t,
            client_id=f"n{n}",
            created_at=now,
        )
        for n, t in ((1, "een"), (2, ""))
    ]
    store.write_batch(new, [heads[second.id]])
    assert all(m.pk for m in new)
    stored = Message.objects.filter(conversation=second).order_by("seq")
    assert [(m.pk, m.seq, m.text) for m in stored] == [(new[0].pk, 1, "een"), (new[1].pk, 2, "")]
    assert Conversation.objects.get(pk=second.id).last_seq == 2
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM chat_message WHERE id = %s", [new[0].pk])
        (raw,) = cursor.fetchone()
    assert raw != "een" and raw.startswith("gAAAA")  # a Fernet token


def test_resends_are_found_only_for_their_own_sender() -> None:
    conversation, _ = services.conversation_start(language="nl")
    services.message_send(
        conversation_id=conversation.id, sender="visitor", text="x", client_id="same"
    )
    _, resends = store.read_batch([conversation.id], ["same"])
    assert resends == {(conversation.id, "visitor", "same")}
    _, none = store.read_batch([conversation.id], [])
    assert none == set()


def test_an_array_literal_quotes_every_element() -> None:
    """On PostgreSQL a batch goes as array literals: every element is quoted, with its
    backslashes and double quotes escaped, and None is NULL."""
    assert store._array(["a", 'b"c', "d\\e", None, 7]) == '{"a","b\\"c","d\\\\e",NULL,"7"}'
    assert store._array([]) == "{}"


def test_awkward_values_are_stored_and_found_as_they_are() -> None:
    """Whatever characters a value holds (quotes, backslashes, commas, braces, the word
    NULL, an empty text), a batch stores it and finds it again unchanged, on either
    database (on PostgreSQL they travel inside array literals)."""
    conversation, _ = services.conversation_start(language="nl")
    heads, _ = store.read_batch([conversation.id], [])
    names = ['q"uote', "back\\slash", "com,ma", "{brace}", "NULL", "ë 🙂"]
    head = heads[conversation.id]
    new = []
    for name in names:
        head.last_seq += 1
        new.append(
            Message(
                conversation_id=conversation.id,
                seq=head.last_seq,
                sender="visitor",
                text=name,
                client_id=name,
                created_at=clock.now(),
            )
        )
    for message in new[1:]:
        message.created_at = new[0].created_at
    store.write_batch(new, [head])
    stored = Message.objects.filter(conversation=conversation).order_by("seq")
    assert [(m.pk, m.client_id, m.text) for m in stored] == [
        (m.pk, n, n) for m, n in zip(new, names, strict=True)
    ]
    _, resends = store.read_batch([conversation.id], [*names, "absent"])
    assert resends == {(conversation.id, "visitor", n) for n in names}
    assert Conversation.objects.get(pk=conversation.id).last_seq == len(names)
