"""Conversations and their append-only message streams."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from haven.core.fields import EncryptedTextField


class Conversation(models.Model):
    """One anonymous chat. Nothing in it identifies the visitor.

    The visitor proves ownership with a random token that only their browser holds; the
    database keeps its SHA-256 hash, so a copy of the database cannot be used to take over
    a conversation.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting")
        ACTIVE = "active", _("active")
        ENDED = "ended", _("ended")

    class Party(models.TextChoices):
        VISITOR = "visitor", _("visitor")
        COUNSELLOR = "counsellor", _("counsellor")
        SYSTEM = "system", _("Haven (automatically)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    language = models.CharField(max_length=8, default="nl")
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    created_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=16, choices=Party.choices, blank=True)
    # While waiting: when the visitor was last known to be connected (each worker says so
    # for its own sockets now and then). A waiting conversation whose visitor has been gone
    # for HAVEN_QUEUE_ABSENCE_SECONDS leaves the queue (see services.conversation_end_if_absent).
    visitor_seen_at = models.DateTimeField(null=True, blank=True)
    # The highest sequence number handed out in this conversation's stream.
    last_seq = models.PositiveIntegerField(default=0)
    # Its number among the day's conversations (1, 2, 3, … from midnight in the helpline's
    # time zone): the short, human name the console calls it by ("Gesprek 12").
    day_number = models.PositiveIntegerField(default=0)
    # The highest sequence number the assigned counsellor has seen (for unread counts).
    counsellor_read_seq = models.PositiveIntegerField(default=0)

    # Ended by a counsellor as abuse: the visitor's (hashed, short-lived) source is refused
    # new chats for a while. Nothing about the visitor is stored to do so.
    blocked = models.BooleanField(default=False)

    # The victim's case. Set when the conversation is coded, or earlier when the visitor
    # asks for a return code or gives one (then the case may not be coded yet).
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    # When a counsellor finished coding this conversation; ended, accepted conversations
    # without it are "still to code".
    coded_at = models.DateTimeField(null=True, blank=True)
    # The visitor gave a valid return code in this conversation.
    returning = models.BooleanField(default=False)
    # When its counsellor flagged it as an emergency (supervisors are alerted at once);
    # None when not flagged, or no longer.
    urgent_at = models.DateTimeField(null=True, blank=True)
    # When a waiting visitor's words first matched the team's danger terms (haven.chat.
    # danger): a hint that raises the conversation in the queue, never a decision.
    danger_at = models.DateTimeField(null=True, blank=True)
    # The counsellor's own notes on this conversation: never sent to the visitor (they
    # travel only to staff consoles), shown on the coding page, deleted with the transcript.
    notes = EncryptedTextField(blank=True)
    # When the retention job deleted the messages. The conversation row (times, who
    # counselled, the case) stays: it holds no words.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="chat_conv_status_created"),
            # The queue's pace for the estimated wait: accepts in the last hour.
            models.Index(fields=["accepted_at"], name="chat_conv_accepted"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class Message(models.Model):
    """One entry in a conversation's stream, numbered 1, 2, 3, … without gaps."""

    class Sender(models.TextChoices):
        VISITOR = "visitor", _("visitor")
        COUNSELLOR = "counsellor", _("counsellor")
        SYSTEM = "system", _("system")

    class Kind(models.TextChoices):
        TEXT = "text", _("text")
        JOINED = "joined", _("counsellor joined")
        ENDED = "ended", _("conversation ended")
        # The visitor used the quick exit: an end, told as such (someone may have come).
        QUICK_EXIT = "quick_exit", _("visitor left quickly")
        RETURNED = "returned", _("returning visitor")
        # Another counsellor took the conversation over (a transfer), or it went back to
        # the queue to wait for one. The transfer's note is never in the stream.
        TRANSFERRED = "transferred", _("another counsellor took over")
        REQUEUED = "requeued", _("back in the queue")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=16, choices=Sender.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    text = EncryptedTextField(blank=True)
    # The sender's own id for the message, so a resend after a lost acknowledgement
    # finds the stored message instead of storing it twice.
    client_id = models.CharField(max_length=64, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="chat_message_seq_unique"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"],
                condition=~Q(client_id=""),
                name="chat_message_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq} {self.sender}"


class TranscriptHold(models.Model):
    """Keeps one transcript past its retention period, for a stated reason (for example the
    victim wants to go to the police), until it expires or is released."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="holds")
    # Written by staff and possibly sensitive, so encrypted like the messages.
    reason = EncryptedTextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"hold on {self.conversation_id}"

    def is_active(self, at: dt.datetime) -> bool:
        return self.released_at is None and self.expires_at > at


class OpeningHours(models.Model):
    """One span of the weekly opening hours (haven.chat.hours). No rows at all: the chat is
    always open."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    weekday = models.IntegerField(_("day"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(
        _("closes at"),
        help_text=_(
            "At or before the opening time: closes the next day (for example 19:00-01:00)."
        ),
    )

    class Meta:
        ordering = ["weekday", "opens_at"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class OpeningException(models.Model):
    """A date with other hours than its weekday (a holiday): closed all day, or open in the
    spans given. Several rows for one date are several spans."""

    date = models.DateField(_("date"), db_index=True)
    closed = models.BooleanField(_("closed all day"), default=True)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    note = models.CharField(
        _("note for the team"), max_length=100, blank=True, help_text=_("For example: Christmas.")
    )

    class Meta:
        ordering = ["date", "opens_at"]
        verbose_name = _("exception to the opening hours")
        verbose_name_plural = _("exceptions to the opening hours")

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date:%Y-%m-%d} ({_('closed')})"
        return f"{self.date:%Y-%m-%d} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"

    def clean(self) -> None:
        if not self.closed and (self.opens_at is None or self.closes_at is None):
            raise ValidationError(_("Give the opening and closing time, or tick 'closed all day'."))


class ConsolePresence(models.Model):
    """One open console (a browser tab of a counsellor), said every heartbeat by the worker
    that holds its socket. Kept in the database, not in a worker's memory, so that every
    worker knows whether anybody watches the queue, and a killed worker's consoles fade out
    by themselves (HAVEN_CONSOLE_PRESENCE_SECONDS)."""

    id = models.UUIDField(primary_key=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"console of {self.user_id}"


class CounsellorAvailability(models.Model):
    """Whether a counsellor takes new conversations now, and how many at once. No row:
    available, with no limit (how every counsellor starts)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    available = models.BooleanField(default=True)
    # None: no limit.
    max_chats = models.PositiveSmallIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"availability of {self.user_id}"


class ConversationDay(models.Model):
    """How many conversations started on one day (the helpline's date), so that each gets
    the next number: one row per day, counted up under its lock."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class StaffNote(models.Model):
    """Words about a conversation for the team only: a whisper (a supervisor to the
    counsellor, or the counsellor back), or the note that goes with a transfer. Never in
    the conversation's stream: they have no sequence number, are never sent to the
    conversation's group (where the visitor listens) and never appear in a transcript.
    Encrypted like the messages, and deleted with them."""

    class Kind(models.TextChoices):
        WHISPER = "whisper", _("whisper")
        TRANSFER = "transfer", _("transfer")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="staff_notes"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A transfer: to whom (None: back to the queue).
    to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = EncryptedTextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["conversation", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} in {self.conversation_id}"


class DangerTerm(models.Model):
    """A word or phrase that suggests immediate danger, kept by the team (supervisors). A
    waiting visitor's message that holds one raises the conversation in the queue."""

    term = models.CharField(_("word or phrase"), max_length=80, unique=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term
