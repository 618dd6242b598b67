"""Haven uses Django's own user model; roles are groups (see roles.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from binascii import unhexlify
from typing import Any

from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from haven.core import crypto


class StaffSecurity(models.Model):
    """Per-account security state that is not part of Django's user.

    ``session_epoch`` goes up on "sign out everywhere": every session carries the epoch it
    was signed in under, and one with an older epoch is signed out on its next request or
    socket check.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_security"
    )
    session_epoch = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"security of {self.user_id}"


# --- the second factor, with its secrets sealed at rest ---------------------------------------
#
# django-otp's own TOTPDevice and StaticToken keep the authenticator's key and the recovery
# codes as they are, so a copy of the database (a backup left somewhere) would let its
# holder pass anyone's second step. These two devices keep the key encrypted with
# HAVEN_ENCRYPTION_KEYS (decrypted only to check a code or to show it at enrolment) and
# the recovery codes as hashes keyed from the secret key only. Migration 0003 moved the
# existing devices over.

RECOVERY_CODE_BYTES = 10  # 80 bits: not to be found by trying every code


def recovery_code_new() -> str:
    """A new recovery code for people to type: 16 letters and digits in groups of four."""
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode("ascii").lower()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def recovery_code_digest(code: str) -> str:
    """The stored form of a recovery code: HMAC-SHA256 of its letters and digits only
    (dashes, spaces and capitals as typed do not matter), keyed from the secret key.

    Keyed, not a bare hash: codes from before migration 0003 (django-otp's) have only 40
    bits, which a copy of the database would give up to a search in minutes; without the
    secret key (kept apart from the backups, like the encryption keys) nothing can be
    tried at all. Changing the secret key makes recovery codes stop working, as it does
    return codes (said in the README)."""
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    key = crypto.secret_subkey("recovery codes")
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


class SealedTOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) whose key is stored encrypted.

    The fields and the checking are django-otp's ``TOTPDevice`` (its methods are reused
    below, reading :attr:`bin_key`); only the key differs: ``sealed_key`` holds the hex key
    as a Fernet token (:mod:`haven.core.crypto`), re-encrypted by ``haven rotatekeys``.
    ``legacy_id`` is the id of the django-otp device it replaced (sessions signed in before
    migration 0002 name that one; see middleware.LegacyDeviceMiddleware).
    """

    sealed_key = models.TextField()
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)
    legacy_id = models.PositiveIntegerField(null=True, blank=True, unique=True)

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    @classmethod
    def with_new_key(cls, **fields: Any) -> SealedTOTPDevice:
        """An unsaved device with a fresh random 20-byte key, sealed."""
        return cls(sealed_key=crypto.encrypt_text(random_hex(20)), **fields)

    @property
    def bin_key(self) -> bytes:
        """The key, decrypted: only to check a code or to show it at enrolment."""
        return unhexlify(crypto.decrypt_text(self.sealed_key).encode("ascii"))

    # django-otp's checking, drift, throttling and QR-code URL, as they are.
    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """Single-use recovery codes, stored as keyed hashes only (:func:`recovery_code_digest`)."""

    legacy_id = models.PositiveIntegerField(null=True, blank=True, unique=True)

    class Meta(Device.Meta):
        verbose_name = "recovery codes"

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1))

    def verify_token(self, token: Any) -> bool:
        """Whether ``token`` is one of the unused codes; a code that matches is used up.

        The lookup is by hash, and the stored hash is compared again in constant time."""
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        digest = recovery_code_digest(str(token))
        match = self.codes.filter(digest=digest).first()
        if match is not None and hmac.compare_digest(match.digest, digest):
            match.delete()
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment()
        return False


class RecoveryCode(models.Model):
    """One unused recovery code of a :class:`RecoveryCodeDevice`, as its hash."""

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"recovery code of device {self.device_id}"
