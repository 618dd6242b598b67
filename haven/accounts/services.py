"""Staff accounts. A counsellor is a user in the "Counsellors" group (permission chat.counsel).

Counsellors are not Django ``is_staff`` users: the admin site is for administrators only.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

COUNSELLOR_GROUP = "Counsellors"


def ensure_counsellor_group() -> Group:
    """The group that carries the permission to counsel; created after every migrate."""
    group, _ = Group.objects.get_or_create(name=COUNSELLOR_GROUP)
    permission = Permission.objects.filter(
        content_type__app_label="chat", codename="counsel"
    ).first()
    if permission is not None:
        group.permissions.add(permission)
    return group


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def counsellor_create(*, username: str, password: str, reset: bool = False) -> Any:
    """Create a counsellor (or, with ``reset``, give an existing one this password).

    The password must pass Django's validators; ``ValidationError`` says why not.
    """
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is not None and not reset:
        raise ValueError(f"A user named {username!r} already exists.")
    if user is None:
        user = user_model(username=username)
    validate_password(password, user)
    user.set_password(password)
    user.is_active = True
    user.save()
    user.groups.add(ensure_counsellor_group())
    return user
