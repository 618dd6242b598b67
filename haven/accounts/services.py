"""Staff accounts. A counsellor is a user in the "Counsellors" group (permission chat.counsel).

Counsellors are not Django ``is_staff`` users: the admin site is for administrators only.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

COUNSELLOR_GROUP = "Counsellors"


def ensure_counsellor_group() -> Group:
    """The group that carries the permission to counsel; created after every migrate."""
    from haven.chat.models import Conversation

    # The permission may not exist yet: auth creates permissions app by app after migrate,
    # and this app's turn can come before chat's.
    permission, _ = Permission.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(Conversation),
        codename="counsel",
        defaults={"name": "Can talk with visitors in the console"},
    )
    group, _ = Group.objects.get_or_create(name=COUNSELLOR_GROUP)
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
