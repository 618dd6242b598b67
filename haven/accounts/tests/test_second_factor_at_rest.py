"""Second-factor secrets at rest: a copy of the database gives neither an authenticator's
key nor a recovery code (models.SealedTOTPDevice, RecoveryCodeDevice; migration 0003)."""

from __future__ import annotations

import base64
import importlib
import io
import re

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import (
    RecoveryCode,
    RecoveryCodeDevice,
    SealedTOTPDevice,
    recovery_code_digest,
    recovery_code_new,
)
from haven.accounts.tests.test_sign_in import PASSWORD, sign_in
from haven.core.tests.test_crypto import database_dump

pytestmark = pytest.mark.django_db
migration = importlib.import_module("haven.accounts.migrations.0003_move_second_factor_secrets")


def code_from_key(key: bytes) -> str:
    return f"{TOTP(key).token():06d}"


def secrets_in(dump: str, *, key: bytes, codes: list[str]) -> list[str]:
    """Which of the secrets appear in ``dump`` in any form a reader could use."""
    forms = {
        "key (hex)": key.hex(),
        "key (base32)": base64.b32encode(key).decode().rstrip("="),
    }
    for code in codes:
        forms[f"code {code}"] = code
        forms[f"code {code} without dashes"] = code.replace("-", "")
    lowered = dump.lower()
    return [name for name, value in forms.items() if value.lower() in lowered]


def test_enrolment_leaves_neither_the_key_nor_a_code_in_the_database(counsellor) -> None:  # type: ignore[no-untyped-def]
    """Set up two-step sign-in through the pages, then read every row of every table: the
    authenticator's key is there only encrypted, the recovery codes only as hashes."""
    client = Client()
    sign_in(client, "anna")
    page = client.get("/console/two-factor/setup/").content.decode()
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")  # type: ignore[union-attr]
    key = base64.b32decode(shown + "=" * (-len(shown) % 8))
    done = client.post("/console/two-factor/setup/", {"token": code_from_key(key)})
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert secrets_in(database_dump(), key=key, codes=codes) == []
    device = SealedTOTPDevice.objects.get(user=counsellor, confirmed=True)
    assert device.sealed_key.startswith("gAAAAA") and device.bin_key == key
    assert not TOTPDevice.objects.exists() and not StaticToken.objects.exists()
    stored = set(RecoveryCode.objects.values_list("digest", flat=True))
    assert stored == {recovery_code_digest(code) for code in codes}


def test_a_recovery_code_may_be_typed_in_capitals_with_or_without_dashes(counsellor) -> None:  # type: ignore[no-untyped-def]
    """What people type differs from what was shown; the code is the letters and digits."""
    code = recovery_code_new()
    assert re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", code)
    for typed in (code, code.upper(), code.replace("-", ""), code.replace("-", " ")):
        assert recovery_code_digest(typed) == recovery_code_digest(code)
    assert recovery_code_digest(recovery_code_new()) != recovery_code_digest(code)


def test_the_migration_seals_old_devices_and_signs_nobody_out(counsellor) -> None:  # type: ignore[no-untyped-def]
    """Devices made by django-otp before 0003 (key and codes in plain text) are moved into
    the sealed ones: the old rows are gone, the dump holds neither, a session verified
    with the old device stays signed in, the same app keeps working, and each old
    recovery code works once. The reverse brings the key back (the codes cannot)."""
    old = TOTPDevice.objects.create(user=counsellor, name="Authenticator app", confirmed=True)
    old_key = old.bin_key
    static = StaticDevice.objects.create(user=counsellor, name="Recovery codes", confirmed=True)
    old_codes = [StaticToken.random_token() for _ in range(3)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in old_codes)
    signed_in = Client()
    signed_in.force_login(counsellor)
    session = signed_in.session
    session[DEVICE_ID_SESSION_KEY] = old.persistent_id
    session.save()

    migration.seal(apps, None)
    migration.seal(apps, None)  # a second run finds nothing more to move

    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert not StaticToken.objects.exists()
    assert secrets_in(database_dump(), key=old_key, codes=old_codes) == []
    sealed = SealedTOTPDevice.objects.get(user=counsellor)
    assert sealed.legacy_id == old.pk and sealed.confirmed and sealed.bin_key == old_key
    assert RecoveryCodeDevice.objects.get(user=counsellor).codes.count() == 3

    # The session verified with the old device is not sent back to the second step, and
    # is pointed at the new device.
    assert signed_in.get("/console/").status_code == 200
    assert signed_in.session[DEVICE_ID_SESSION_KEY] == sealed.persistent_id

    # The app on the phone (the same key) and an old recovery code still work, the code once.
    for device in (sealed, RecoveryCodeDevice.objects.get(user=counsellor)):
        device.throttle_reset()
    fresh = Client()
    sign_in(fresh, "anna", PASSWORD)
    ok = fresh.post("/console/two-factor/", {"token": code_from_key(old_key)})
    assert ok.status_code == 302 and "two-factor" not in ok["Location"]
    with_code = Client()
    sign_in(with_code, "anna", PASSWORD)
    used = with_code.post("/console/two-factor/", {"token": old_codes[0]})
    assert used.status_code == 302 and "two-factor" not in used["Location"]
    again = Client()
    sign_in(again, "anna", PASSWORD)
    RecoveryCodeDevice.objects.get(user=counsellor).throttle_reset()
    assert (
        'role="alert"'
        in again.post("/console/two-factor/", {"token": old_codes[0]}).content.decode()
    )

    migration.unseal(apps, None)
    assert TOTPDevice.objects.get(user=counsellor).bin_key == old_key
    assert not SealedTOTPDevice.objects.exists() and not RecoveryCodeDevice.objects.exists()


def test_rotation_re_encrypts_the_authenticator_keys(settings, counsellor) -> None:  # type: ignore[no-untyped-def]
    """After a new key is put in front, ``haven rotatekeys`` moves every sealed key to it:
    the new key alone then opens them, and codes still match."""
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HAVEN_ENCRYPTION_KEYS = [old_key]
    device = SealedTOTPDevice.with_new_key(user=counsellor, name="phone", confirmed=True)
    device.save()
    secret = device.bin_key
    settings.HAVEN_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    call_command("rotatekeys", stdout=out)
    assert "Done: 1 authenticator keys are encrypted" in out.getvalue()
    assert "(1 re-encrypted, 0 already were)" in out.getvalue()
    device.refresh_from_db()
    assert Fernet(new_key.encode()).decrypt(device.sealed_key.encode()).decode() == secret.hex()
