"""What the staff pages' shared header (chat/staff_base.html) needs on every request."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from haven.accounts.permissions import can
from haven.accounts.roles import Action


def staff_nav(request: HttpRequest) -> dict[str, Any]:
    """``nav``: which staff pages this person may open. Empty for visitors (no account),
    so a visitor's page never carries anything about staff. Lazy: a page that shows no
    header reads no roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def flags() -> dict[str, bool]:
        return {
            "console": can(user, Action.USE_CONSOLE),
            "review": can(user, Action.REVIEW_CASES),
            "canned": can(user, Action.MANAGE_CANNED),
            "referrals": can(user, Action.MANAGE_REFERRALS),
            "danger_terms": can(user, Action.MANAGE_DANGER_TERMS),
            "team": can(user, Action.VIEW_TEAM_FIGURES),
            "figures": can(user, Action.VIEW_FIGURES),
            "export": can(user, Action.EXPORT_CASES),
            "import": can(user, Action.IMPORT_CASES),
        }

    return {"nav": SimpleLazyObject(flags)}
