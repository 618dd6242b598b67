"""Every write of the referral directory: supervisors only, audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.services import audit_record
from haven.chat.services import NotFound
from haven.core import clock
from haven.referrals.models import Referral


@transaction.atomic
def referral_save(*, actor: Any, referral: Referral) -> Referral:
    """Store a new or changed entry (``referral`` is validated by its form)."""
    if not can(actor, Action.MANAGE_REFERRALS):
        raise NotFound(_("This page was not found."))
    created = referral.pk is None
    referral.updated_at = clock.now()
    referral.updated_by = actor
    referral.save()
    audit_record(
        actor=actor,
        action="referral.create" if created else "referral.change",
        target_type="referral",
        target_id=referral.pk,
        detail={"organisation": referral.organisation},
    )
    return referral


@transaction.atomic
def referral_delete(*, actor: Any, referral_id: int) -> None:
    if not can(actor, Action.MANAGE_REFERRALS):
        raise NotFound(_("This page was not found."))
    referral = Referral.objects.filter(pk=referral_id).first()
    if referral is None:
        raise NotFound(_("This page was not found."))
    audit_record(
        actor=actor,
        action="referral.delete",
        target_type="referral",
        target_id=referral.pk,
        detail={"organisation": referral.organisation},
    )
    referral.delete()
