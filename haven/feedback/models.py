"""Visitors' answers to the two questions after a chat, as counts only.

No answer is kept as a row of its own: each one adds 1 to the count of its month,
question and answer. So nothing (no column, no row order, no insertion id) can line an
answer up with the chat it came after; what is stored is already the figure.
"""

from __future__ import annotations

from django.db import models


class FeedbackTally(models.Model):
    month = models.DateField()  # the first day of the month the answers were given in
    question = models.CharField(max_length=16)
    answer = models.CharField(max_length=16)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "question", "answer"], name="feedback_tally_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.question}={self.answer}: {self.count}"
