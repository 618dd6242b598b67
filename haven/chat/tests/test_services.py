"""Service tests: sequence numbers, idempotent sends, the accept race, ending, read marks."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import close_old_connections, connection
from django.utils import translation

from haven.chat import selectors, services
from haven.chat.models import Conversation, Message

pytestmark = pytest.mark.django_db


def start() -> tuple[Conversation, str]:
    return services.conversation_start(language="nl")


def send(conversation: Conversation, text: str, client_id: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    return services.message_send(
        conversation_id=conversation.id,
        sender=kwargs.pop("sender", Message.Sender.VISITOR),
        text=text,
        client_id=client_id or uuid.uuid4().hex,
        **kwargs,
    )


def test_start_stores_only_a_hash_of_the_visitor_token(clock) -> None:
    """The token the browser holds is not in the database; its SHA-256 is, and finds the chat."""
    conversation, token = start()
    assert conversation.status == Conversation.Status.WAITING
    assert conversation.created_at == clock.moment
    assert token not in conversation.token_hash
    assert selectors.conversation_for_token(token) == conversation
    assert selectors.conversation_for_token(token + "x") is None


def test_start_falls_back_to_the_default_language() -> None:
    """An unknown language code gives a Dutch conversation rather than an error."""
    conversation, _ = services.conversation_start(language="xx")
    assert conversation.language == "nl"


def test_messages_get_increasing_sequence_numbers_without_gaps(counsellor) -> None:
    """Visitor messages, the joined notice and counsellor replies share one stream 1, 2, 3, …"""
    conversation, _ = start()
    assert send(conversation, "first").seq == 1
    assert send(conversation, "second").seq == 2
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    reply = send(conversation, "hello", sender=Message.Sender.COUNSELLOR, author=counsellor)
    assert reply.seq == 4
    seqs = list(conversation.messages.values_list("seq", "kind"))
    assert seqs == [(1, "text"), (2, "text"), (3, "joined"), (4, "text")]
    conversation.refresh_from_db()
    assert conversation.last_seq == 4


def test_resending_the_same_client_id_returns_the_stored_message() -> None:
    """A resend after a lost acknowledgement is not stored twice and keeps its number."""
    conversation, _ = start()
    first = send(conversation, "only once", client_id="c-1")
    again = send(conversation, "only once", client_id="c-1")
    assert again.pk == first.pk
    assert again.seq == 1
    assert conversation.messages.count() == 1


def test_a_stored_message_is_still_acknowledged_after_the_chat_ended() -> None:
    """A resend of an accepted message after the end gets its number, not an error."""
    conversation, _ = start()
    stored = send(conversation, "words", client_id="c-9")
    services.conversation_end(conversation_id=conversation.id, party="visitor")
    assert send(conversation, "words", client_id="c-9").seq == stored.seq
    with pytest.raises(services.ConversationClosed):
        send(conversation, "new words", client_id="c-10")


def test_client_ids_are_separate_per_sender(counsellor) -> None:
    """The visitor and the counsellor may happen to use the same client id."""
    conversation, _ = start()
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    send(conversation, "visitor", client_id="same")
    reply = send(
        conversation, "counsellor", client_id="same", sender="counsellor", author=counsellor
    )
    assert reply.text == "counsellor"


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), ("   \n\t ", "empty"), ("\x00\x01", "empty"), ("x" * 4001, "too_long")],
)
def test_invalid_text_is_refused_with_a_reason(text: str, code: str) -> None:
    """Empty and over-long messages raise MessageInvalid with a stable code; nothing is stored."""
    conversation, _ = start()
    with pytest.raises(services.MessageInvalid) as error:
        send(conversation, text)
    assert error.value.code == code
    assert error.value.message
    assert conversation.messages.count() == 0


def test_text_is_cleaned_of_control_characters_but_keeps_lines() -> None:
    """NUL and other control characters go; newlines stay; the limit counts the cleaned text."""
    conversation, _ = start()
    message = send(conversation, "  line one\r\nline\x00 two\x07  ")
    assert message.text == "line one\nline two"
    assert send(conversation, "y" * 4000 + "\x00").text == "y" * 4000


def test_html_is_stored_as_the_text_it_is() -> None:
    """Markup is data: stored unchanged, escaped wherever it is shown."""
    conversation, _ = start()
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    assert send(conversation, payload).text == payload


def test_counsellor_cannot_write_before_accepting(counsellor) -> None:
    """A counsellor only writes in a conversation assigned to them."""
    conversation, _ = start()
    with pytest.raises(services.NotFound):
        send(conversation, "hi", sender="counsellor", author=counsellor)


def test_counsellor_cannot_write_in_a_colleagues_conversation(make_counsellor) -> None:
    """Another counsellor's conversation answers 'not found', as if it did not exist."""
    anna, ben = make_counsellor("anna"), make_counsellor("ben")
    conversation, _ = start()
    services.conversation_accept(conversation_id=conversation.id, counsellor=anna)
    with pytest.raises(services.NotFound):
        send(conversation, "hi", sender="counsellor", author=ben)


def test_accept_assigns_and_appends_a_joined_notice(counsellor, clock) -> None:
    """Accepting makes the conversation active, records when, and tells the stream."""
    conversation, _ = start()
    clock.advance(minutes=3)
    accepted = services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    assert accepted.status == Conversation.Status.ACTIVE
    assert accepted.counsellor == counsellor
    assert accepted.accepted_at == clock.moment
    assert accepted.messages.get().kind == Message.Kind.JOINED


def test_accepting_twice_gives_a_clear_refusal(make_counsellor) -> None:
    """The second counsellor is told a colleague was first; the first keeps it."""
    anna, ben = make_counsellor("anna"), make_counsellor("ben")
    conversation, _ = start()
    services.conversation_accept(conversation_id=conversation.id, counsellor=anna)
    with translation.override("en"), pytest.raises(services.ConversationUnavailable) as error:
        services.conversation_accept(conversation_id=conversation.id, counsellor=ben)
    assert "colleague" in error.value.message
    conversation.refresh_from_db()
    assert conversation.counsellor == anna


def test_accepting_a_missing_conversation_is_not_found(counsellor) -> None:
    with pytest.raises(services.NotFound):
        services.conversation_accept(conversation_id=uuid.uuid4(), counsellor=counsellor)


def test_a_user_without_the_counsel_permission_cannot_accept(django_user_model) -> None:
    """Being logged in is not enough: the counsel permission is required."""
    stranger = django_user_model.objects.create_user("stranger", password="x" * 20)
    conversation, _ = start()
    with pytest.raises(services.NotFound):
        services.conversation_accept(conversation_id=conversation.id, counsellor=stranger)


@pytest.mark.django_db(transaction=True)
def test_accept_race_between_threads_has_exactly_one_winner(make_counsellor) -> None:
    """Eight counsellors press accept at the same moment: one wins, seven are told so.

    Runs with real threads and connections, on SQLite and on PostgreSQL.
    """
    counsellors = [make_counsellor(f"c{i}") for i in range(8)]
    conversation, _ = start()
    barrier = threading.Barrier(len(counsellors))
    outcomes: list[str] = []
    lock = threading.Lock()

    def press(user) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            services.conversation_accept(conversation_id=conversation.id, counsellor=user)
            result = f"won:{user.username}"
        except services.ConversationUnavailable:
            result = "refused"
        finally:
            close_old_connections()
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=press, args=(user,)) for user in counsellors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(outcomes) == 8
    assert len(winners) == 1
    assert outcomes.count("refused") == 7
    conversation.refresh_from_db()
    assert f"won:{conversation.counsellor.username}" == winners[0]
    assert conversation.messages.filter(kind=Message.Kind.JOINED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_never_share_a_sequence_number() -> None:
    """Messages sent at once from several threads get distinct, gap-free numbers."""
    conversation, _ = start()
    barrier = threading.Barrier(6)

    def burst(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                send(conversation, f"w{worker} m{i}", client_id=f"{worker}-{i}")
        finally:
            connection.close()

    threads = [threading.Thread(target=burst, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    seqs = sorted(conversation.messages.values_list("seq", flat=True))
    assert seqs == list(range(1, 31))


def test_visitor_can_end_a_waiting_chat_and_ending_twice_is_harmless(clock) -> None:
    """Ending records who and when, adds an 'ended' entry once, and is idempotent."""
    conversation, _ = start()
    clock.advance(minutes=1)
    ended = services.conversation_end(conversation_id=conversation.id, party="visitor")
    assert (ended.status, ended.ended_by, ended.ended_at) == ("ended", "visitor", clock.moment)
    services.conversation_end(conversation_id=conversation.id, party="visitor")
    assert conversation.messages.filter(kind=Message.Kind.ENDED).count() == 1


def test_only_the_assigned_counsellor_can_end(make_counsellor) -> None:
    anna, ben = make_counsellor("anna"), make_counsellor("ben")
    conversation, _ = start()
    services.conversation_accept(conversation_id=conversation.id, counsellor=anna)
    with pytest.raises(services.NotFound):
        services.conversation_end(conversation_id=conversation.id, party="counsellor", actor=ben)
    ended = services.conversation_end(
        conversation_id=conversation.id, party="counsellor", actor=anna
    )
    assert ended.ended_by == "counsellor"


def test_read_mark_moves_forward_only_and_drives_unread_counts(counsellor) -> None:
    """Unread counts the visitor's messages after the mark; the mark never goes back."""
    conversation, _ = start()
    send(conversation, "one")
    send(conversation, "two")
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    [entry] = selectors.counsellor_conversations(counsellor)
    assert entry["unread"] == 2
    assert (
        services.conversation_mark_read(
            conversation_id=conversation.id, counsellor=counsellor, seq=99
        )
        == 3
    )  # capped at the last number handed out
    assert (
        services.conversation_mark_read(
            conversation_id=conversation.id, counsellor=counsellor, seq=1
        )
        == 3
    )
    send(conversation, "three")
    [entry] = selectors.counsellor_conversations(counsellor)
    assert entry["unread"] == 1


def test_messages_after_returns_the_rest_of_the_stream_in_order() -> None:
    """Resuming from number N gives exactly the entries after N."""
    conversation, _ = start()
    for i in range(5):
        send(conversation, f"m{i}")
    assert [m["seq"] for m in selectors.messages_after(conversation, 2)] == [3, 4, 5]
    assert selectors.messages_after(conversation, 5) == []
    assert [m["text"] for m in selectors.messages_after(conversation, 0)] == [
        f"m{i}" for i in range(5)
    ]


def test_queue_is_oldest_first_with_counts_and_the_latest_words(clock) -> None:
    """The console queue is in order, with how much was written, a short preview and the
    stream's last number (which orders the queue's changes)."""
    first, _ = start()
    clock.advance(seconds=30)
    second, _ = start()
    send(second, "I want to tell something")
    send(second, "  it started last year   with a friend  ")
    queue = selectors.waiting_queue()
    assert [q["conversation"] for q in queue] == [str(first.id), str(second.id)]
    assert [q["seq"] for q in queue] == [0, 2]
    assert queue[0]["message_count"] == 0 and queue[0]["preview"] == ""
    assert queue[1]["message_count"] == 2
    assert queue[1]["preview"] == "it started last year with a friend"
    assert selectors.queue_position(second) == 2
    services.conversation_end(conversation_id=first.id, party="visitor")
    assert selectors.queue_position(second) == 1


def test_queue_query_count_does_not_grow_with_the_queue(django_assert_num_queries, clock) -> None:
    """One query for the whole queue, however many wait."""
    for _ in range(5):
        conversation, _ = start()
        send(conversation, "hello")
        clock.advance(seconds=1)
    with django_assert_num_queries(1):
        assert len(selectors.waiting_queue()) == 5


def test_access_conversation_hides_missing_and_forbidden_alike(make_counsellor) -> None:
    """Waiting: any counsellor. Active or ended: only its counsellor. Else None, as if missing."""
    anna, ben = make_counsellor("anna"), make_counsellor("ben")
    conversation, _ = start()
    assert selectors.access_conversation(ben, conversation.id) == conversation
    services.conversation_accept(conversation_id=conversation.id, counsellor=anna)
    assert selectors.access_conversation(anna, conversation.id) == conversation
    assert selectors.access_conversation(ben, conversation.id) is None
    assert selectors.access_conversation(ben, uuid.uuid4()) is None
    assert selectors.access_conversation(None, conversation.id) is None
    services.conversation_end(conversation_id=conversation.id, party="visitor")
    assert selectors.access_conversation(anna, conversation.id) == conversation
    assert selectors.access_conversation(ben, conversation.id) is None


def test_broadcasts_happen_only_after_commit(
    django_capture_on_commit_callbacks, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Nothing is pushed to clients before the message is safely stored; after the commit,
    the message event and the waiting conversation's queue entry, in that order."""
    from haven.core import broadcast

    published: list[str] = []
    monkeypatch.setattr(
        broadcast,
        "publish",
        lambda group, message, **kw: published.append(message["event"]["type"]),
    )
    conversation, _ = start()
    published.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send(conversation, "stored first")
    assert published == []
    for callback in callbacks:
        callback()
    assert published == ["message", "queue_entry"]


def test_every_transcript_read_is_audited_whatever_the_client_asks_from(make_staff) -> None:  # type: ignore[no-untyped-def]
    """A read from number 1 (not 0) is a read too: the client cannot avoid the log."""
    from haven.audit.models import AuditEntry

    sara = make_staff("sara", "supervisor")
    conversation, _ = start()
    send(conversation, "words")
    services.conversation_open(actor=sara, conversation_id=conversation.id, last_seq=1)
    services.conversation_open(actor=sara, conversation_id=conversation.id, last_seq=0)
    reads = AuditEntry.objects.filter(action="transcript.read", actor=sara)
    assert sorted(r.detail["from_seq"] for r in reads) == [0, 1]


def test_a_transcript_is_read_outside_the_audits_transaction(make_staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The history is read and decrypted before the audit entry's transaction begins: on
    SQLite that transaction holds the one write lock, which every message waits for."""
    sara = make_staff("sara", "supervisor")
    conversation, _ = start()
    send(conversation, "words")
    outer = len(connection.atomic_blocks)
    depths = []
    read = selectors.messages_after

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        depths.append(len(connection.atomic_blocks))
        return read(*args, **kwargs)

    monkeypatch.setattr(selectors, "messages_after", recording)
    _, messages = services.conversation_open(
        actor=sara, conversation_id=conversation.id, last_seq=0
    )
    assert depths == [outer]
    assert [m["text"] for m in messages] == ["words"]
