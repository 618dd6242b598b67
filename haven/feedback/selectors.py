"""Reads of the feedback, for the figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Sum

from haven.feedback import questions
from haven.feedback.models import FeedbackTally


def feedback_counts(start: dt.date, end: dt.date) -> dict[str, dict[str, int]]:
    """``{question: {answer: count}}`` for the months from ``start``'s up to (not including)
    ``end``: whole months, as the answers are counted by month. One query."""
    counts: dict[str, dict[str, int]] = {}
    rows = (
        FeedbackTally.objects.filter(month__gte=start.replace(day=1), month__lt=end)
        .values("question", "answer")
        .annotate(n=Sum("count"))
    )
    for row in rows:
        counts.setdefault(row["question"], {})[row["answer"]] = int(row["n"])
    return counts


def feedback_figures(
    *, start: dt.date, end: dt.date, public: bool, threshold: int | None
) -> dict[str, Any]:
    """The figures of the feedback for a report's period (one query)."""
    return questions.summarise(feedback_counts(start, end), public=public, threshold=threshold)
