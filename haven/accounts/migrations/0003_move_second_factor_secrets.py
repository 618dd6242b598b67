"""Move every second factor into the sealed devices of 0002, and leave no secret behind.

Each authenticator of django-otp's ``otp_totp`` becomes a ``SealedTOTPDevice`` with the same
key, encrypted with HAVEN_ENCRYPTION_KEYS (its drift, last step and throttling kept). Each
set of recovery codes of ``otp_static`` becomes a ``RecoveryCodeDevice`` holding the keyed
hashes of the unused codes (keyed, because django-otp's codes have only 40 bits). The old rows are then deleted, so the database holds neither a key nor
a code in plain text. Nobody is signed out: the new devices remember the old ids
(``legacy_id``), and a session that names an old device is pointed at its replacement on
its next request (middleware.LegacyDeviceMiddleware). Running it twice changes nothing.

The reverse puts the keys back in plain text into ``otp_totp``; recovery codes cannot come
back from their hashes, so after a reverse each person makes new ones (Security page).
"""

from typing import Any

from django.db import migrations

from haven.core import crypto


def seal(apps: Any, schema_editor: Any) -> None:
    from haven.accounts.models import recovery_code_digest

    OldTOTP = apps.get_model("otp_totp", "TOTPDevice")
    OldStatic = apps.get_model("otp_static", "StaticDevice")
    OldToken = apps.get_model("otp_static", "StaticToken")
    Sealed = apps.get_model("accounts", "SealedTOTPDevice")
    Codes = apps.get_model("accounts", "RecoveryCodeDevice")
    Code = apps.get_model("accounts", "RecoveryCode")
    shared = ("user_id", "name", "confirmed", "throttling_failure_timestamp",
              "throttling_failure_count", "created_at", "last_used_at")
    # created_at is auto_now_add: set on create, so written again afterwards.
    kept = ("created_at", "last_used_at")
    for old in OldTOTP.objects.order_by("pk"):
        new = Sealed.objects.create(
            sealed_key=crypto.encrypt_text(old.key),
            step=old.step, t0=old.t0, digits=old.digits, tolerance=old.tolerance,
            drift=old.drift, last_t=old.last_t, legacy_id=old.pk,
            **{field: getattr(old, field) for field in shared},
        )
        Sealed.objects.filter(pk=new.pk).update(**{f: getattr(old, f) for f in kept})
    OldTOTP.objects.all().delete()
    for old in OldStatic.objects.order_by("pk"):
        new = Codes.objects.create(legacy_id=old.pk, **{f: getattr(old, f) for f in shared})
        Codes.objects.filter(pk=new.pk).update(**{f: getattr(old, f) for f in kept})
        Code.objects.bulk_create(
            Code(device=new, digest=recovery_code_digest(token.token))
            for token in OldToken.objects.filter(device_id=old.pk)
        )
    OldToken.objects.all().delete()
    OldStatic.objects.all().delete()


def unseal(apps: Any, schema_editor: Any) -> None:
    OldTOTP = apps.get_model("otp_totp", "TOTPDevice")
    Sealed = apps.get_model("accounts", "SealedTOTPDevice")
    for new in Sealed.objects.order_by("pk"):
        OldTOTP.objects.create(
            key=crypto.decrypt_text(new.sealed_key),
            user_id=new.user_id, name=new.name, confirmed=new.confirmed,
            step=new.step, t0=new.t0, digits=new.digits, tolerance=new.tolerance,
            drift=new.drift, last_t=new.last_t,
        )
    Sealed.objects.all().delete()
    apps.get_model("accounts", "RecoveryCodeDevice").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_sealed_second_factor"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(seal, unseal)]
