from __future__ import annotations

from typing import Any

from django import forms
from django.db import models

from haven.referrals.models import Referral


def _form_field(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    # An address typed without a scheme is read as https (Django 6's default, chosen now).
    if isinstance(field, models.URLField):
        return field.formfield(assume_scheme="https", **kwargs)  # type: ignore[no-any-return]
    return field.formfield(**kwargs)  # type: ignore[no-any-return]


class ReferralForm(forms.ModelForm):
    class Meta:
        model = Referral
        fields = ["organisation", "phone", "website", "hours", "helps_with", "region", "audience"]
        widgets = {"helps_with": forms.Textarea(attrs={"rows": 3})}
        formfield_callback = _form_field
