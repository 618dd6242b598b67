"""Every write of canned responses: supervisors only, audited (without the text)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.services import audit_record
from haven.canned.models import CannedResponse
from haven.chat.services import NotFound
from haven.core import clock


@transaction.atomic
def canned_save(
    *,
    actor: Any,
    response: CannedResponse,
) -> CannedResponse:
    """Store a new or changed response (``response`` is validated by its form)."""
    if not can(actor, Action.MANAGE_CANNED):
        raise NotFound(_("This page was not found."))
    created = response.pk is None
    response.updated_at = clock.now()
    response.updated_by = actor
    response.save()
    audit_record(
        actor=actor,
        action="canned.create" if created else "canned.change",
        target_type="canned_response",
        target_id=response.pk,
        detail={"shortcut": response.shortcut, "language": response.language},
    )
    return response


@transaction.atomic
def canned_delete(*, actor: Any, response_id: int) -> None:
    if not can(actor, Action.MANAGE_CANNED):
        raise NotFound(_("This page was not found."))
    response = CannedResponse.objects.filter(pk=response_id).first()
    if response is None:
        raise NotFound(_("This page was not found."))
    audit_record(
        actor=actor,
        action="canned.delete",
        target_type="canned_response",
        target_id=response.pk,
        detail={"shortcut": response.shortcut, "language": response.language},
    )
    response.delete()
