"""What the case commands share: acting as a named staff account."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def staff_account(username: str) -> Any:
    """The active account called ``username``. The command acts (and is audited) as it, with
    exactly the rights its roles give: the command line grants nothing extra."""
    account = get_user_model().objects.filter(username=username, is_active=True).first()
    if account is None:
        raise CommandError(f"There is no active staff account called {username!r}.")
    return account
