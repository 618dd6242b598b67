"""Signing in: two steps, throttling without telling who exists, signing out everywhere."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from django_otp.oath import TOTP

from haven.accounts import throttle
from haven.accounts.forms import ThrottledAuthenticationForm
from haven.accounts.models import (
    RecoveryCode,
    RecoveryCodeDevice,
    SealedTOTPDevice,
    recovery_code_digest,
)
from haven.accounts.services import staff_sign_out_everywhere
from haven.audit.models import AuditEntry
from haven.conftest import sign_in_fully

pytestmark = pytest.mark.django_db
PASSWORD = "a long test password 42"


def code_for(device: SealedTOTPDevice, *, step_offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += step_offset * device.step
    return f"{totp.token():06d}"


def sign_in(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/console/login/", {"username": username, "password": password})


def test_first_sign_in_enrols_an_authenticator_and_shows_recovery_codes_once(
    counsellor,  # type: ignore[no-untyped-def]
) -> None:
    """Password, then set-up with a QR code and a typed code, then ten recovery codes."""
    client = Client()
    assert sign_in(client, "anna").status_code == 302
    assert client.get("/console/")["Location"].startswith("/console/two-factor/setup/")
    page = client.get("/console/two-factor/setup/").content.decode()
    assert "<svg" in page and 'id="totp-secret"' in page
    device = SealedTOTPDevice.objects.get(user=counsellor, confirmed=False)
    shown_secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    import base64

    assert base64.b32decode(shown_secret + "=" * (-len(shown_secret) % 8)) == device.bin_key
    wrong = client.post("/console/two-factor/setup/", {"token": "000000"})
    assert 'role="alert"' in wrong.content.decode()
    device = SealedTOTPDevice.objects.get(user=counsellor, confirmed=False)
    device.throttle_reset()  # django-otp slows down after a wrong code; no waiting in a test
    done = client.post("/console/two-factor/setup/", {"token": code_for(device)})
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert client.get("/console/").status_code == 200
    assert AuditEntry.objects.filter(action="2fa.enrolled", actor=counsellor).exists()


def test_later_sign_ins_ask_for_the_code_and_accept_a_recovery_code_once(counsellor) -> None:  # type: ignore[no-untyped-def]
    first = Client()
    sign_in_fully(first, counsellor)
    from haven.accounts.services import recovery_codes_replace

    codes = recovery_codes_replace(user=counsellor)
    client = Client()
    sign_in(client, "anna")
    assert client.get("/console/")["Location"].startswith("/console/two-factor/?next=")
    bad = client.post("/console/two-factor/", {"token": "123456"})
    assert 'role="alert"' in bad.content.decode()
    # django-otp slows down after a wrong code; no waiting in a test
    for device in [
        *SealedTOTPDevice.objects.filter(user=counsellor),
        *RecoveryCodeDevice.objects.filter(user=counsellor),
    ]:
        device.throttle_reset()
    good = client.post("/console/two-factor/", {"token": codes[0], "next": "/console/"})
    assert good["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    digest = recovery_code_digest(codes[0])
    assert not RecoveryCode.objects.filter(digest=digest).exists(), "a recovery code works once"
    again = Client()
    sign_in(again, "anna")
    used = again.post("/console/two-factor/", {"token": codes[0], "next": "/console/"})
    assert 'role="alert"' in used.content.decode()


def test_a_failing_account_is_locked_with_the_same_words_as_a_missing_one(
    counsellor,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    """After the limit even the right password is refused for a while, and the refusal for
    an existing and a non-existing name reads the same: no user enumeration."""
    settings.HAVEN_LOGIN_FAILURES_PER_ACCOUNT = 3
    client = Client()
    for _ in range(3):
        assert sign_in(client, "anna", "wrong").status_code == 200
    locked = sign_in(client, "anna").content.decode()
    assert "Too many attempts" in locked or "Te veel pogingen" in locked
    for _ in range(3):
        sign_in(client, "nobody-here", "wrong")
    unknown = sign_in(client, "nobody-here").content.decode()
    extract = lambda html: re.search(r'<p class="error" role="alert">(.*?)</p>', html).group(1)  # noqa: E731
    assert extract(locked) == extract(unknown)
    assert "_auth_user_id" not in client.session


def test_wrong_password_and_unknown_name_read_the_same(counsellor) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    wrong = sign_in(client, "anna", "wrong").content.decode()
    unknown = sign_in(client, "nobody-here", "wrong").content.decode()
    error = re.compile(r'<p class="error" role="alert">(.*?)</p>')
    assert error.search(wrong).group(1) == error.search(unknown).group(1)


def test_throttling_per_source_counts_across_names(settings) -> None:  # type: ignore[no-untyped-def]
    """One source trying many names is stopped too (the source is a daily keyed hash)."""
    settings.HAVEN_LOGIN_FAILURES_PER_SOURCE = 4
    request = RequestFactory().post("/console/login/")
    request.scope = {"haven.source": "hashed-source-1"}  # type: ignore[attr-defined]
    for i in range(4):
        form = ThrottledAuthenticationForm(request, data={"username": f"n{i}", "password": "x"})
        assert not form.is_valid()
    assert throttle.is_locked(username="someone-else", source="hashed-source-1")
    assert not throttle.is_locked(username="someone-else", source="another-source")


def test_sign_out_everywhere_ends_every_other_session(counsellor) -> None:  # type: ignore[no-untyped-def]
    phone, desk = Client(), Client()
    sign_in_fully(phone, counsellor)
    sign_in_fully(desk, counsellor)
    assert phone.get("/console/").status_code == 200
    response = desk.post("/console/sign-out-everywhere/")
    assert response.status_code == 302
    assert phone.get("/console/")["Location"].startswith("/console/login/")
    assert desk.get("/console/")["Location"].startswith("/console/login/")
    assert AuditEntry.objects.filter(action="session.sign_out_everywhere").count() == 1


def test_sign_in_failures_are_audited_without_unknown_names(counsellor) -> None:  # type: ignore[no-untyped-def]
    """A mistyped name (perhaps someone's real name) is not written down."""
    client = Client()
    sign_in(client, "anna", "wrong")
    sign_in(client, "Jan de Vries", "wrong")
    failed = list(
        AuditEntry.objects.filter(action="session.sign_in_failed").values_list("detail", flat=True)
    )
    assert {"username": "anna"} in failed
    assert all("Jan" not in str(detail) for detail in failed)


def test_sessions_expire_after_idle_time_and_at_browser_close(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_passwords_follow_djangos_validators(settings) -> None:  # type: ignore[no-untyped-def]
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


def test_sign_out_everywhere_also_closes_console_sockets(counsellor) -> None:  # type: ignore[no-untyped-def]
    """The socket's periodic re-check sees the new epoch (the loop itself: test_consumers)."""
    from django.contrib.sessions.backends.db import SessionStore

    from haven.chat.consumers import still_allowed

    client = Client()
    key = sign_in_fully(client, counsellor)
    session = SessionStore(session_key=key)
    session.load()
    assert still_allowed(counsellor, session)
    staff_sign_out_everywhere(user=counsellor)
    assert not still_allowed(counsellor, session)


def test_a_password_alone_cannot_replace_the_authenticator(counsellor) -> None:  # type: ignore[no-untyped-def]
    """Set-up is for an account without an authenticator (or a session that passed the
    second step): with only the password, it sends you to the code page, device untouched."""
    owner = Client()
    sign_in_fully(owner, counsellor)
    device = SealedTOTPDevice.objects.get(user=counsellor, confirmed=True)
    thief = Client()
    sign_in(thief, "anna")
    response = thief.get("/console/two-factor/setup/")
    assert response["Location"].startswith("/console/two-factor/?next=")
    posted = thief.post("/console/two-factor/setup/", {"token": "123456"})
    assert posted["Location"].startswith("/console/two-factor/?next=")
    assert SealedTOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()
    assert thief.get("/console/")["Location"].startswith("/console/two-factor/")


def test_role_changes_are_audited_and_administrators_cannot_raise_themselves(
    make_staff,  # type: ignore[no-untyped-def]
) -> None:
    from django.contrib.admin.sites import site
    from django.contrib.auth.models import Group, User
    from django.test import RequestFactory

    adam = make_staff("adam", "administrator")
    adam.groups.add(Group.objects.get(name="Supervisors"))
    assert AuditEntry.objects.filter(
        action="account.roles_add", detail__groups=["Supervisors"]
    ).exists()
    request = RequestFactory().get("/admin/auth/user/")
    request.user = adam
    readonly = site._registry[User].get_readonly_fields(request, adam)
    assert {"is_superuser", "user_permissions", "groups"} <= set(readonly)
    other = make_staff("cora", "counsellor")
    assert "groups" not in site._registry[User].get_readonly_fields(request, other)
