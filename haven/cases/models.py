"""Coded cases: one anonymous record per victim, built from the codebook.

A case holds codes only, never free text and nothing that names or locates a person, so it
may outlive the transcripts it was coded from (see docs/codebook.md). The answer columns
are generated from :mod:`haven.cases.codebook`, so the table, the form, import/export and
the figures share one definition:

* a ONE question is a short text column holding its code;
* a NUMBER question is a small integer column, empty when not known;
* a MANY question is one boolean column per option, named ``<question>_<code>``, so that
  figures are plain conditional counts in the database.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haven.cases import codebook
from haven.cases.codebook import Kind


def many_column(question: str, code: str) -> str:
    """The boolean column that records ``code`` for the MANY question ``question``."""
    return f"{question}_{code}"


class Case(models.Model):
    """One victim (or one no-data contact), coded. Conversations link to it; a visitor who
    comes back with a return code adds conversations to the same case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField()
    # Set when the case is coded for the first time; a case made only to attach a return
    # code is not coded yet and is not counted anywhere.
    codebook_version = models.PositiveSmallIntegerField(null=True, blank=True)
    coded_at = models.DateTimeField(null=True, blank=True)
    coded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported = models.BooleanField(default=False)
    # Invented by `haven demo-data` for demonstrations and benchmarks; reports say so.
    synthetic = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["coded_at"], name="cases_case_coded_at")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """A short reference staff can say aloud; not secret, not derived from the visitor."""
        return "C-" + self.id.hex[:8].upper()

    @property
    def is_coded(self) -> bool:
        return self.coded_at is not None

    def answers(self) -> dict[str, Any]:
        """The coded record as the codebook describes it (codes, tuples, ints)."""
        record: dict[str, Any] = {}
        for question in codebook.QUESTIONS:
            if question.kind is Kind.MANY:
                record[question.name] = tuple(
                    code
                    for code in question.codes
                    if getattr(self, many_column(question.name, code))
                )
            else:
                record[question.name] = getattr(self, question.name)
        return record

    def set_answers(self, record: dict[str, Any]) -> None:
        """Copy a record that :func:`codebook.validate` returned onto the columns."""
        for question in codebook.QUESTIONS:
            value = record[question.name]
            if question.kind is Kind.MANY:
                for code in question.codes:
                    setattr(self, many_column(question.name, code), code in value)
            else:
                setattr(self, question.name, value)


def _answer_fields() -> dict[str, models.Field[Any, Any]]:
    fields: dict[str, models.Field[Any, Any]] = {}
    for question in codebook.QUESTIONS:
        if question.kind is Kind.ONE:
            fields[question.name] = models.CharField(
                _(question.label),
                max_length=32,
                blank=True,
                choices=[(option.code, _(option.label)) for option in question.options],
                default=question.default,
            )
        elif question.kind is Kind.NUMBER:
            fields[question.name] = models.PositiveSmallIntegerField(
                _(question.label), null=True, blank=True
            )
        else:
            for option in question.options:
                fields[many_column(question.name, option.code)] = models.BooleanField(
                    f"{question.label}: {option.label}", default=False
                )
    return fields


for _name, _field in _answer_fields().items():
    Case.add_to_class(_name, _field)


class CaseContact(models.Model):
    """A day on which a case was in contact: from a coded conversation, or imported. The
    figures for a period count each case with a contact in it once."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    on = models.DateField()
    conversation = models.OneToOneField(
        "chat.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
    )

    class Meta:
        indexes = [models.Index(fields=["on", "case"], name="cases_contact_on_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.on}"


class ReturnCode(models.Model):
    """A code a visitor was given to link a later conversation to the same case.

    Only an HMAC of the normalised phrase is stored (see haven/cases/returncodes.py): the
    database alone cannot turn it back into the phrase, nor test guesses offline.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="return_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"return code for {self.case_id}"


class CodingDraft(models.Model):
    """The coding form as last left, so nothing is lost when a counsellor is interrupted.
    Codes only, like the case itself; deleted when the conversation is coded."""

    conversation = models.OneToOneField(
        "chat.Conversation", on_delete=models.CASCADE, related_name="coding_draft"
    )
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"draft for {self.conversation_id}"
