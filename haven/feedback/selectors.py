"""Reads of the feedback, for the figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count

from haven.feedback import questions
from haven.feedback.models import Feedback


def feedback_counts(start: dt.date, end: dt.date) -> dict[str, dict[str, int]]:
    """``{question: {answer: count}}`` for the answers given from ``start`` up to (not
    including) ``end``, by month. One query."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = (
        Feedback.objects.filter(month__gte=start.replace(day=1), month__lt=end)
        .values("helped", "come_back")
        .annotate(n=Count("id"))
    )
    for row in rows:
        for question in ("helped", "come_back"):
            code = row[question]
            if code:
                counts[question][code] = counts[question].get(code, 0) + row["n"]
    return dict(counts)


def feedback_figures(
    *, start: dt.date, end: dt.date, public: bool, threshold: int | None
) -> dict[str, Any]:
    """The figures of the feedback for a report's period (one query)."""
    return questions.summarise(feedback_counts(start, end), public=public, threshold=threshold)
