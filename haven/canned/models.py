"""Canned responses: texts a counsellor inserts by typing ``/`` and a shortcut, and edits
before sending. Managed by supervisors, in Dutch and English."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CannedResponse(models.Model):
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    shortcut = models.SlugField(
        _("shortcut"),
        max_length=30,
        help_text=_("Typed after / in the reply box, for example: welcome"),
    )
    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(_("text"), max_length=2000)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["shortcut", "language"]
        constraints = [
            models.UniqueConstraint(fields=["language", "shortcut"], name="canned_unique")
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} ({self.language})"
