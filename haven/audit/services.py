"""Writing to the audit log. The only write there is: append."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from haven.audit.models import AuditEntry
from haven.core import clock


@transaction.atomic
def audit_record(
    *,
    actor: Any,
    action: str,
    target_type: str = "",
    target_id: object = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. ``detail`` must hold no message text and nothing about a visitor."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        at=clock.now(),
        actor=actor if authenticated else None,
        actor_name=actor.get_username() if authenticated else "",
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id else "",
        detail=detail or {},
    )
