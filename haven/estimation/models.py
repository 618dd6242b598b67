"""Saved estimates: a capture table, how it was estimated, and the result.

An analyst saves an estimate from the estimates page (:mod:`haven.estimation.services`).
It holds aggregate counts only, never a person: the table of capture patterns (one column
per register, how many people have each pattern) as CSV, rewritten by the reader so that
nothing but list names and counts is kept. ``result`` is
:meth:`haven.estimation.mse.Estimate.to_dict`, whose sentences keep their English
templates, so the estimate can be shown again later in either language.

An estimate with a ``year`` is attached to that year's report: the report shows the newest
one for the year (:func:`haven.estimation.selectors.attached_estimate`).
"""

from __future__ import annotations

import uuid
from functools import cached_property

from django.conf import settings
from django.db import models

from haven.estimation.mse import Estimate
from haven.estimation.selection import AIC, BIC, STEPWISE
from haven.estimation.table import CaptureTable, parse_csv


class SavedEstimate(models.Model):
    class Method(models.TextChoices):
        STEPWISE = STEPWISE, "stepwise"
        AIC = AIC, "AIC"
        BIC = BIC, "BIC"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    # The year whose report shows this estimate; empty: attached to no report.
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    table_csv = models.TextField()
    method = models.CharField(max_length=16, choices=Method.choices)
    bootstrap = models.PositiveIntegerField()  # replications; 0: no bootstrap
    seed = models.PositiveIntegerField()
    result = models.JSONField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["year", "-created_at"], name="estimate_year_latest")]

    def __str__(self) -> str:
        return self.title

    @cached_property
    def estimate(self) -> Estimate:
        """The stored result as an :class:`~haven.estimation.mse.Estimate` again."""
        return Estimate.from_dict(self.result)

    @cached_property
    def table(self) -> CaptureTable:
        """The stored capture table (it was checked when saved, so it reads again)."""
        return parse_csv(self.table_csv)
