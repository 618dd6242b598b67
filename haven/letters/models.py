"""Messages left for later: a visitor writes while the chat is closed or nobody is there,
gets a return code, and later reads the counsellor's answer with it, on any device.

A letter is a small append-only thread like a conversation's stream, numbered 1, 2, 3, …
It belongs to a case (the return code points at the case), so the same code typed in a
later chat links that chat to the same case (the console says "returning visitor").
Nothing in it identifies the visitor; the words are encrypted like chat messages and
deleted after the retention period (haven.letters.services.letters_purge).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haven.core.fields import EncryptedTextField


class Letter(models.Model):
    class Sender(models.TextChoices):
        VISITOR = "visitor", _("visitor")
        COUNSELLOR = "counsellor", _("counsellor")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="letters")
    language = models.CharField(max_length=8, default="nl", choices=settings.LANGUAGES)
    created_at = models.DateTimeField()
    # The last entry's time and who wrote it: a letter waits for an answer while the last
    # word is the visitor's.
    last_at = models.DateTimeField()
    awaiting_reply = models.BooleanField(default=True)
    last_seq = models.PositiveIntegerField(default=0)
    # The visitor page's own id for the first message, so that sending it again after a
    # lost answer finds this letter instead of leaving a second one.
    client_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # When the retention job deleted the entries (the row stays: it holds no words).
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["awaiting_reply", "last_at"], name="letters_awaiting")]

    def __str__(self) -> str:
        return f"letter {self.id}"


class LetterEntry(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="entries")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=16, choices=Letter.Sender.choices)
    text = EncryptedTextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["letter", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "seq"], name="letters_entry_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.letter_id}#{self.seq} {self.sender}"
