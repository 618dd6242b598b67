"""Staff accounts: creation with roles, second-factor enrolment, signing out everywhere.

A role is membership of its group (see roles.py). Counsellors are not Django ``is_staff``
users: only administrators get the admin site.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import F

from haven.accounts.models import (
    RecoveryCode,
    RecoveryCodeDevice,
    SealedTOTPDevice,
    StaffSecurity,
    recovery_code_digest,
    recovery_code_new,
)
from haven.accounts.roles import GROUP_FOR_ROLE, Role
from haven.audit.services import audit_record

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
# What administrators may do in the admin site: accounts and groups, and the chat's
# opening hours. Not the audit log
# (read-only for everyone) and nothing that holds a transcript.
ADMINISTRATOR_PERMISSIONS = [
    ("auth", "user", ("add", "change", "delete", "view")),
    ("auth", "group", ("view",)),
    ("audit", "auditentry", ("view",)),
    ("chat", "openinghours", ("add", "change", "delete", "view")),
    ("chat", "openingexception", ("add", "change", "delete", "view")),
]


def ensure_role_groups() -> dict[Role, Group]:
    """One group per role; administrators get the admin permissions they need."""
    groups = {
        role: Group.objects.get_or_create(name=name)[0] for role, name in GROUP_FOR_ROLE.items()
    }
    wanted = [
        f"{action}_{model}"
        for _app, model, actions in ADMINISTRATOR_PERMISSIONS
        for action in actions
    ]
    permissions = Permission.objects.filter(
        content_type__app_label__in={app for app, _, _ in ADMINISTRATOR_PERMISSIONS},
        codename__in=wanted,
    )
    groups[Role.ADMINISTRATOR].permissions.add(*permissions)
    return groups


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def staff_create(
    *, username: str, password: str, roles: Iterable[Role], reset: bool = False, actor: Any = None
) -> Any:
    """Create a staff account with ``roles`` (or, with ``reset``, set its password and roles).

    The password must pass Django's validators; ``ValidationError`` says why not.
    """
    roles = frozenset(roles)
    if not roles:
        raise ValueError("A staff account needs at least one role.")
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is not None and not reset:
        raise ValueError(f"A user named {username!r} already exists.")
    if user is None:
        user = user_model(username=username)
    validate_password(password, user)
    user.set_password(password)
    user.is_active = True
    user.is_staff = Role.ADMINISTRATOR in roles  # the admin site, for administrators only
    user.save()
    groups = ensure_role_groups()
    user.groups.set([groups[role] for role in roles])
    StaffSecurity.objects.get_or_create(user=user)
    audit_record(
        actor=actor,
        action="account.reset" if reset else "account.create",
        target_type="user",
        target_id=user.pk,
        detail={"username": username, "roles": sorted(roles)},
    )
    return user


def counsellor_create(*, username: str, password: str, reset: bool = False) -> Any:
    return staff_create(username=username, password=password, roles=[Role.COUNSELLOR], reset=reset)


@transaction.atomic
def totp_enrolment_start(*, user: Any) -> SealedTOTPDevice:
    """An unconfirmed authenticator for ``user`` (a new secret each time enrolment starts),
    its key encrypted at rest (models.SealedTOTPDevice)."""
    SealedTOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = SealedTOTPDevice.with_new_key(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    device.save()
    return device


@transaction.atomic
def totp_enrolment_confirm(*, user: Any, device_id: int, token: str) -> list[str] | None:
    """Confirm the authenticator with a code from the app; returns new recovery codes.

    ``None`` when the code is wrong. Replaces any earlier authenticator and recovery codes.
    """
    device = SealedTOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None or not device.verify_token(token):
        audit_record(actor=user, action="2fa.enrol_failed", target_type="user", target_id=user.pk)
        return None
    SealedTOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = recovery_codes_replace(user=user)
    audit_record(actor=user, action="2fa.enrolled", target_type="user", target_id=user.pk)
    return codes


@transaction.atomic
def recovery_codes_replace(*, user: Any) -> list[str]:
    """New single-use recovery codes; the old ones stop working. Shown to the user once:
    only their hashes are stored (models.recovery_code_digest), and each works once."""
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [recovery_code_new() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(device=device, digest=recovery_code_digest(code)) for code in codes]
    )
    return codes


@transaction.atomic
def staff_sign_out_everywhere(*, user: Any) -> int:
    """End every session of ``user``, on every device; returns the new epoch."""
    StaffSecurity.objects.get_or_create(user=user)
    StaffSecurity.objects.filter(user=user).update(session_epoch=F("session_epoch") + 1)
    epoch = StaffSecurity.objects.get(user=user).session_epoch
    audit_record(
        actor=user, action="session.sign_out_everywhere", target_type="user", target_id=user.pk
    )
    return epoch
