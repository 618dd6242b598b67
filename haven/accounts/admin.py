"""The admin site is for administrators (role), after the second factor, throttled sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
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


class HavenUserAdmin(UserAdmin):
    """Administrators manage accounts, but cannot make anyone (themselves included) a
    superuser, hand out single permissions, or change their own roles."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not getattr(request.user, "is_superuser", False):
            fields += ["is_superuser", "user_permissions"]
            if obj is not None and obj.pk == request.user.pk:
                fields += ["groups", "is_staff", "is_active"]
        return fields


admin.site.unregister(User)
admin.site.register(User, HavenUserAdmin)
