"""The admin site is for administrators (role), after the second factor, throttled sign-in."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from haven.accounts.forms import ThrottledAdminAuthenticationForm
from haven.accounts.permissions import can
from haven.accounts.roles import Action


def _has_permission(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_staff
        and (getattr(user, "is_superuser", False) or can(user, Action.MANAGE_ACCOUNTS))
    )


admin.site.has_permission = _has_permission  # type: ignore[method-assign]
admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.site_header = "Haven"
admin.site.site_title = "Haven"
