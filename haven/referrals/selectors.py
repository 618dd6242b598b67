"""Reads of the referral directory."""

from __future__ import annotations

from typing import Any

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.referrals.models import Referral


def for_console() -> list[dict[str, str]]:
    """Every entry, for the console's script to search as the counsellor types (a directory
    of tens of entries, not thousands). Nothing in it is about a visitor."""
    return [
        {
            "organisation": entry.organisation,
            "phone": entry.phone,
            "website": entry.website,
            "hours": entry.hours,
            "helps_with": entry.helps_with,
            "region": entry.region,
            "audience": entry.audience,
            "audience_label": str(entry.get_audience_display()),
        }
        for entry in Referral.objects.all()
    ]


def access_referral(actor: Any, referral_id: int) -> Referral | None:
    """The entry if ``actor`` may change it (supervisors), else None: missing and forbidden
    alike."""
    if not can(actor, Action.MANAGE_REFERRALS):
        return None
    return Referral.objects.filter(pk=referral_id).first()
