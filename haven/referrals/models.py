"""The referral directory: organisations a counsellor can point a visitor to, searched from
the conversation and inserted into a reply for editing. Managed by supervisors; the team
enters the real organisations (the demo has invented ones only)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Referral(models.Model):
    class Audience(models.TextChoices):
        MINORS = "minors", _("young people under 18")
        ADULTS = "adults", _("adults")
        ALL = "all", _("everyone")

    organisation = models.CharField(_("organisation"), max_length=120)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("web address"), blank=True)
    hours = models.CharField(
        _("hours"), max_length=120, blank=True, help_text=_("For example: every day 9:00-21:00")
    )
    helps_with = models.TextField(
        _("what they help with"),
        max_length=500,
        help_text=_("A few words a counsellor searches for, for example: housing, police, lawyer"),
    )
    region = models.CharField(_("region"), max_length=80, default="Nederland")
    audience = models.CharField(
        _("for whom"), max_length=8, choices=Audience.choices, default=Audience.ALL
    )
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["organisation"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return self.organisation
