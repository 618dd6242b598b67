"""A visitor's answers to the two questions after a chat.

Not linked to the conversation in any way: no conversation id, no time but the month, and
a random primary key, so that neither a column nor the order of the rows lines an answer
up with the chat it came after.
"""

from __future__ import annotations

import uuid

from django.db import models


class Feedback(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    month = models.DateField(db_index=True)  # the first day of the month it was given in
    helped = models.CharField(max_length=16, blank=True)
    come_back = models.CharField(max_length=16, blank=True)

    def __str__(self) -> str:
        return f"feedback {self.month:%Y-%m}"
