"""Haven uses Django's own user model; roles are groups (see roles.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class StaffSecurity(models.Model):
    """Per-account security state that is not part of Django's user.

    ``session_epoch`` goes up on "sign out everywhere": every session carries the epoch it
    was signed in under, and one with an older epoch is signed out on its next request or
    socket check.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_security"
    )
    session_epoch = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"security of {self.user_id}"
