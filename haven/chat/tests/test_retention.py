"""Transcript retention: the purge job, holds, and what stays (with a controllable clock)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from haven.audit.models import AuditEntry
from haven.cases.models import Case, CaseContact
from haven.cases.services import conversation_code
from haven.cases.tests.test_services import ANSWERS, chat
from haven.chat import services
from haven.chat.models import Conversation, Message, TranscriptHold
from haven.chat.services import ConversationUnavailable, MessageInvalid, NotFound

pytestmark = pytest.mark.django_db


def purge(**kwargs: Any) -> services.PurgeResult:
    return services.transcripts_purge(**kwargs)


def gone(conversation: Conversation) -> bool:
    conversation.refresh_from_db()
    deleted = not Message.objects.filter(conversation=conversation).exists()
    assert deleted == (conversation.purged_at is not None)
    return deleted


def hold(actor: Any, conversation: Conversation, **kwargs: Any) -> TranscriptHold:
    return services.transcript_hold_place(
        actor=actor,
        conversation_id=conversation.id,
        reason=kwargs.pop("reason", "The victim wants to report to the police."),
        **kwargs,
    )


@pytest.fixture
def supervisor(make_staff):  # type: ignore[no-untyped-def]
    return make_staff("sara", "supervisor")


def test_a_transcript_is_kept_for_its_period_and_gone_the_day_after(
    clock, settings, counsellor
) -> None:
    """With the default 30 days: still there 30 days after the end, deleted on day 31.
    The conversation row, its case and the contact stay; only the words go."""
    assert settings.HAVEN_TRANSCRIPT_RETENTION_DAYS == 30
    conversation = chat(counsellor)
    case = conversation_code(actor=counsellor, conversation_id=conversation.id, answers=ANSWERS)
    other = chat(counsellor)
    clock.advance(days=30)
    assert purge().purged == 0
    assert not gone(conversation)
    clock.advance(days=1)
    result = purge()
    assert (result.purged, result.messages, result.held, result.closed) == (2, 6, 0, 0)
    assert gone(conversation)
    assert gone(other)
    assert conversation.purged_at == clock.moment
    assert conversation.case_id == case.id
    assert conversation.counsellor == counsellor
    assert Case.objects.get(pk=case.id).answers()["gender"] == "girl"
    assert CaseContact.objects.filter(case=case, conversation=conversation).exists()


def test_the_period_runs_from_the_end_not_the_start(clock, counsellor) -> None:
    """A conversation that lasted a week is kept 30 days after it ended."""
    conversation = chat(counsellor, end=False)
    clock.advance(days=7)
    services.conversation_end(conversation_id=conversation.id, party="visitor")
    clock.advance(days=29, hours=23)  # 36 days after the start, not yet 30 after the end
    purge()
    assert not gone(conversation)
    clock.advance(hours=2)
    purge()
    assert gone(conversation)


def test_the_period_can_be_set(clock, settings, counsellor) -> None:
    """HAVEN_TRANSCRIPT_RETENTION_DAYS, or retention_days for one run, sets the period."""
    settings.HAVEN_TRANSCRIPT_RETENTION_DAYS = 7
    conversation = chat(counsellor)
    clock.advance(days=8)
    assert purge(retention_days=10).purged == 0
    assert purge().purged == 1
    assert gone(conversation)


def test_a_held_transcript_is_kept_until_the_hold_expires(clock, settings, counsellor) -> None:
    """A hold keeps the words past the period, is counted as held, and stops keeping them
    when it expires (by default after HAVEN_HOLD_DAYS)."""
    conversation = chat(counsellor)
    placed = hold(counsellor, conversation)
    assert placed.expires_at == clock.moment + dt.timedelta(days=settings.HAVEN_HOLD_DAYS)
    clock.advance(days=31)
    result = purge()
    assert (result.purged, result.held) == (0, 1)
    assert not gone(conversation)
    clock.advance(days=settings.HAVEN_HOLD_DAYS - 31)  # the hold expires at this moment
    assert purge().purged == 1
    assert gone(conversation)


def test_a_released_hold_lets_the_next_run_delete_the_transcript(
    clock, counsellor, supervisor
) -> None:
    """Releasing ends the hold early; both steps are audited with who and when."""
    conversation = chat(counsellor)
    placed = hold(counsellor, conversation, days=200)
    clock.advance(days=40)
    assert purge().held == 1
    released = services.transcript_hold_release(actor=supervisor, hold_id=placed.id)
    assert released.released_by == supervisor
    assert released.released_at == clock.moment
    assert not released.is_active(clock.moment)
    assert purge().purged == 1
    assert gone(conversation)
    [placed_entry] = AuditEntry.objects.filter(action="transcript.hold")
    assert placed_entry.actor == counsellor
    assert placed_entry.target_id == str(conversation.id)
    assert placed_entry.detail == {"hold": placed.id, "days": 200}
    [released_entry] = AuditEntry.objects.filter(action="transcript.hold_release")
    assert released_entry.actor == supervisor
    assert released_entry.detail == {"hold": placed.id}
    # Releasing again changes nothing and writes nothing.
    services.transcript_hold_release(actor=supervisor, hold_id=placed.id)
    assert AuditEntry.objects.filter(action="transcript.hold_release").count() == 1


def test_a_hold_within_the_period_has_no_effect_on_others(clock, counsellor) -> None:
    """A hold keeps its own transcript only."""
    held, free = chat(counsellor), chat(counsellor)
    hold(counsellor, held)
    clock.advance(days=31)
    purge()
    assert not gone(held)
    assert gone(free)


def test_the_hold_reason_is_removed_with_the_transcript(clock, counsellor) -> None:
    """The reason is staff's words about the victim: it goes when the transcript goes;
    the hold's dates and who placed it stay."""
    conversation = chat(counsellor)
    placed = hold(counsellor, conversation, days=1)
    clock.advance(days=31)
    purge()
    placed.refresh_from_db()
    assert placed.reason == ""
    assert placed.placed_by == counsellor


def test_abandoned_conversations_are_ended_and_purged_by_last_activity(clock, counsellor) -> None:
    """A visitor who left while waiting, or a chat left open: counted from the last
    message, ended by the job (by "system"), then deleted like any other."""
    waiting, _token = services.conversation_start(language="nl")
    services.message_send(
        conversation_id=waiting.id, sender="visitor", text="synthetic", client_id="w-1"
    )
    active = chat(counsellor, end=False)
    clock.advance(days=10)
    services.message_send(
        conversation_id=active.id, sender="visitor", text="synthetic later", client_id="a-9"
    )
    clock.advance(days=21)  # 31 days after the waiting visitor's message, 21 after the other
    result = purge()
    assert (result.purged, result.closed) == (1, 1)
    assert gone(waiting)
    assert waiting.status == Conversation.Status.ENDED
    assert waiting.ended_by == Conversation.Party.SYSTEM
    assert waiting.ended_at == clock.moment
    assert not gone(active)
    assert active.status == Conversation.Status.ACTIVE
    clock.advance(days=10)
    assert purge().closed == 1
    assert gone(active)
    assert active.status == Conversation.Status.ENDED


def test_each_run_is_audited_and_a_second_run_changes_nothing(clock, counsellor) -> None:
    """The job writes one "transcripts.purge" entry with its counts (never any text), and
    running it again right away deletes nothing more."""
    conversation = chat(counsellor)
    hold(counsellor, chat(counsellor))
    clock.advance(days=31)
    first = purge()
    purged_at = Conversation.objects.get(pk=conversation.id).purged_at
    clock.advance(minutes=5)
    second = purge()
    assert (first.purged, first.held) == (1, 1)
    assert (second.purged, second.messages, second.closed, second.held) == (0, 0, 0, 1)
    assert Conversation.objects.get(pk=conversation.id).purged_at == purged_at
    entries = list(AuditEntry.objects.filter(action="transcripts.purge").order_by("id"))
    assert [entry.detail for entry in entries] == [
        {"retention_days": 30, "purged": 1, "messages": 3, "held": 1, "closed": 0},
        {"retention_days": 30, "purged": 0, "messages": 0, "held": 1, "closed": 0},
    ]
    assert entries[0].actor is None


def test_a_hold_needs_the_conversation_s_counsellor_or_a_supervisor(
    make_counsellor, supervisor, make_staff
) -> None:
    """Another counsellor or an analyst gets "not found", as for a missing conversation;
    so does anyone releasing a hold they may not see."""
    anna, bram = make_counsellor("anna"), make_counsellor("bram")
    conversation = chat(anna)
    for actor in (bram, make_staff("ali", "analyst")):
        with pytest.raises(NotFound):
            hold(actor, conversation)
    with pytest.raises(NotFound):
        services.transcript_hold_place(actor=anna, conversation_id=uuid.uuid4(), reason="a reason")
    placed = hold(supervisor, conversation)
    assert placed.placed_by == supervisor
    with pytest.raises(NotFound):
        services.transcript_hold_release(actor=bram, hold_id=placed.id)
    with pytest.raises(NotFound):
        services.transcript_hold_release(actor=anna, hold_id=placed.id + 1000)
    assert services.transcript_hold_release(actor=anna, hold_id=placed.id).released_by == anna


def test_a_hold_needs_a_reason_and_a_sensible_length(settings, counsellor) -> None:
    """An empty reason, a very long one, or a length outside 1..HAVEN_HOLD_MAX_DAYS is
    refused with a message saying what to do."""
    conversation = chat(counsellor)
    with pytest.raises(MessageInvalid):
        hold(counsellor, conversation, reason="  \n ")
    with pytest.raises(MessageInvalid):
        hold(counsellor, conversation, reason="x" * 501)
    for days in (0, settings.HAVEN_HOLD_MAX_DAYS + 1):
        with pytest.raises(MessageInvalid):
            hold(counsellor, conversation, days=days)
    assert hold(counsellor, conversation, days=settings.HAVEN_HOLD_MAX_DAYS)
    assert AuditEntry.objects.filter(action="transcript.hold").count() == 1


def test_a_deleted_transcript_cannot_be_held(clock, counsellor) -> None:
    """Once purged there is nothing to keep: placing a hold says so."""
    conversation = chat(counsellor)
    clock.advance(days=31)
    purge()
    with pytest.raises(ConversationUnavailable):
        hold(counsellor, conversation)
