"""The one permission function: ``can(actor, action)``. Every view, socket and export asks it.

Two questions are kept apart on purpose:

* ``can`` answers "does this person's role allow this?" from their groups. Services ask it
  too, so a service called from anywhere refuses what the role does not allow.
* ``is_fully_signed_in`` answers "did this session pass the second factor, and has it not
  been revoked?" Only the entry points ask it (the staff middleware, socket connects),
  because only they have a session.
"""

from __future__ import annotations

from typing import Any

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from haven.accounts.roles import Action, Role, allows, roles_from_groups

SESSION_EPOCH_KEY = "haven_session_epoch"


def roles_of(actor: Any) -> frozenset[Role]:
    """The roles of an active, signed-in user (cached on the instance); none for anyone else."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return frozenset()
    cached = getattr(actor, "_haven_roles", None)
    if cached is None:
        cached = roles_from_groups(actor.groups.values_list("name", flat=True))
        actor._haven_roles = cached
    return cached  # type: ignore[no-any-return]


def can(actor: Any, action: Action) -> bool:
    """Whether ``actor``'s roles allow ``action``."""
    return allows(roles_of(actor), action)


def verified_device(actor: Any, session: Any) -> Device | None:
    """The confirmed OTP device this session was verified with, if it belongs to ``actor``."""
    if session is None or actor is None or not getattr(actor, "is_authenticated", False):
        return None
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id:
        return None
    persistent_id = legacy_device_replacement(session, persistent_id)
    if persistent_id is None:
        return None
    device = Device.from_persistent_id(persistent_id, for_verify=False)
    if device is None or device.user_id != actor.id or not device.confirmed:
        return None
    return device


# django-otp's own devices, replaced by sealed ones in accounts migration 0003.
_LEGACY_DEVICE_PREFIXES = ("otp_totp.totpdevice/", "otp_static.staticdevice/")


def legacy_device_replacement(session: Any, persistent_id: str) -> str | None:
    """``persistent_id``, or for a django-otp device replaced by a sealed one in accounts
    migration 0003 (sessions verified before it name those), the sealed device's id; the
    session is pointed at it. None when a legacy device has no replacement."""
    if not persistent_id.startswith(_LEGACY_DEVICE_PREFIXES):
        return persistent_id
    from haven.accounts.models import RecoveryCodeDevice, SealedTOTPDevice

    label, _, number = persistent_id.partition("/")
    model = SealedTOTPDevice if label == "otp_totp.totpdevice" else RecoveryCodeDevice
    if not number.isdigit():
        return None
    device = model.objects.filter(legacy_id=int(number)).first()
    if device is None:
        return None
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    return str(device.persistent_id)


def session_epoch(actor: Any) -> int:
    from haven.accounts.models import StaffSecurity

    row = StaffSecurity.objects.filter(user=actor).values_list("session_epoch", flat=True).first()
    return row or 0


def is_fully_signed_in(actor: Any, session: Any) -> bool:
    """Signed in, second factor passed in this session, and not signed out everywhere since."""
    if verified_device(actor, session) is None:
        return False
    return bool(session.get(SESSION_EPOCH_KEY, 0) == session_epoch(actor))
