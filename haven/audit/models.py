"""The audit log: who read, exported or changed what, and when. Append-only.

Rows can be added, never changed or removed, by any code path in Haven: ``save`` refuses an
update, ``delete`` refuses, and so do the queryset's ``update`` and ``delete``. On
PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE in the database itself, so
not even a raw query from a compromised staff session can rewrite history. The admin site
shows the log read-only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit entry."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("The audit log cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The audit log cannot be changed.")


class AuditEntry(models.Model):
    at = models.DateTimeField(db_index=True)
    # The account, and its name at the time. No database constraint and no cascade: deleting
    # an account must not rewrite (SET NULL) or remove its history; actor_name remains.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("The audit log cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The audit log cannot be changed.")
