from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from haven.accounts import throttle
from haven.core.sources import source_of


class ThrottleMixin:
    """Refuse sign-in for a while after repeated failures, per account and per source.

    Every refusal reads the same, so the form never tells whether a user name exists.
    """

    request: Any
    cleaned_data: dict[str, Any]
    error_messages: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        source = source_of(self.request)
        if throttle.is_locked(username=username, source=source):
            raise forms.ValidationError(LOCKED, code="locked")
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            throttle.record_failure(username=username, source=source)
            raise
        throttle.record_success(username=username)
        return cleaned


LOCKED = _("Too many attempts. Wait a quarter of an hour and try again.")


class ThrottledAuthenticationForm(ThrottleMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That user name and password do not match. Try again."),
    }


class ThrottledAdminAuthenticationForm(ThrottleMixin, AdminAuthenticationForm):
    pass


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=32,  # a recovery code typed with its dashes: 19
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return "".join(str(self.cleaned_data["token"]).split())
