"""Abuse protection that identifies no one: limits per hashed source and per conversation,
and blocking by a counsellor, with a calm message for the visitor."""

from __future__ import annotations

import uuid

import pytest

from haven.audit.models import AuditEntry
from haven.chat import services
from haven.chat.models import Conversation, Message

pytestmark = pytest.mark.django_db


def send(conversation: Conversation, text: str = "hello", source: str | None = "src-a") -> Message:
    return services.message_send(
        conversation_id=conversation.id,
        sender=Message.Sender.VISITOR,
        text=text,
        client_id=uuid.uuid4().hex,
        source=source,
    )


def test_new_chats_per_source_are_limited_per_hour(settings) -> None:  # type: ignore[no-untyped-def]
    """The seventh chat within the hour from one source is refused calmly; others go on."""
    settings.HAVEN_STARTS_PER_SOURCE_PER_HOUR = 3
    for _ in range(3):
        services.conversation_start(language="nl", source="src-a")
    with pytest.raises(services.Refused) as refused:
        services.conversation_start(language="nl", source="src-a")
    assert refused.value.code == "unavailable"
    assert "try again later" in refused.value.message.lower() or "later" in refused.value.message
    services.conversation_start(language="nl", source="src-b")


def test_messages_per_conversation_are_limited_across_connections(settings) -> None:  # type: ignore[no-untyped-def]
    """However many sockets a conversation uses, it gets so many messages a minute; the
    refusal says when to try again, and nothing already stored is touched."""
    settings.HAVEN_MESSAGES_PER_CONVERSATION_PER_MINUTE = 3
    conversation, _ = services.conversation_start(language="nl", source="src-a")
    for i in range(3):
        send(conversation, f"m{i}", source=f"src-{i}")
    with pytest.raises(services.SlowDown) as slow:
        send(conversation, "too fast", source="src-9")
    assert slow.value.retry_after > 0
    assert conversation.messages.count() == 3


def test_messages_per_source_are_limited_across_conversations(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HAVEN_MESSAGES_PER_SOURCE_PER_MINUTE = 2
    first, _ = services.conversation_start(language="nl", source="src-a")
    second, _ = services.conversation_start(language="nl", source="src-a")
    send(first, source="src-a")
    send(second, source="src-a")
    with pytest.raises(services.SlowDown):
        send(first, source="src-a")
    send(first, source="src-b")


def test_blocking_ends_the_chat_and_refuses_its_source_new_chats(counsellor) -> None:  # type: ignore[no-untyped-def]
    conversation, _ = services.conversation_start(language="nl", source="src-abusive")
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    blocked = services.conversation_block(conversation_id=conversation.id, actor=counsellor)
    assert (blocked.status, blocked.ended_by, blocked.blocked) == ("ended", "counsellor", True)
    with pytest.raises(services.Refused):
        services.conversation_start(language="nl", source="src-abusive")
    services.conversation_start(language="nl", source="src-someone-else")
    assert AuditEntry.objects.filter(action="conversation.block", actor=counsellor).exists()


def test_only_the_counsellor_of_a_chat_or_a_supervisor_can_block(make_staff) -> None:  # type: ignore[no-untyped-def]
    anna, ben = make_staff("anna", "counsellor"), make_staff("ben", "counsellor")
    sara = make_staff("sara", "supervisor")
    conversation, _ = services.conversation_start(language="nl", source="src-a")
    services.conversation_accept(conversation_id=conversation.id, counsellor=anna)
    with pytest.raises(services.NotFound):
        services.conversation_block(conversation_id=conversation.id, actor=ben)
    assert services.conversation_block(conversation_id=conversation.id, actor=sara).blocked


def test_nothing_about_the_source_is_stored_in_the_database(counsellor) -> None:  # type: ignore[no-untyped-def]
    """The hashed source lives in memory only, with an expiry."""
    conversation, _ = services.conversation_start(language="nl", source="src-unique-4711")
    send(conversation, source="src-unique-4711")
    for row in [*Conversation.objects.values(), *Message.objects.values()]:
        assert "src-unique-4711" not in str(row)
