"""Sign-in, the second factor (enrolment and verification), signing out everywhere."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token

from haven.accounts import services
from haven.accounts.forms import ThrottledAuthenticationForm, TokenForm
from haven.accounts.models import SealedTOTPDevice
from haven.accounts.permissions import verified_device
from haven.audit.services import audit_record

ENROL_SESSION_KEY = "haven_enrol_device"


class StaffLoginView(LoginView):
    template_name = "chat/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/console/"


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Second step of signing in: a code from the authenticator app, or a recovery code."""
    user: Any = request.user
    if not SealedTOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect(f"/console/two-factor/setup/?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            audit_record(
                actor=user,
                action="2fa.verified",
                target_type="user",
                target_id=user.pk,
                detail={"with": "recovery code" if device.name == "Recovery codes" else "app"},
            )
            return redirect(_next_url(request))
        audit_record(actor=user, action="2fa.failed", target_type="user", target_id=user.pk)
        form.add_error("token", _wrong_code())
    return render(request, "accounts/verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: scan the QR code, type the code it shows.

    Only for an account without one, or for a session that already passed the second step:
    otherwise a stolen password alone could replace the owner's authenticator.
    """
    user: Any = request.user
    has_device = SealedTOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if has_device and verified_device(user, request.session) is None:
        return redirect(f"/console/two-factor/?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    device_id = request.session.get(ENROL_SESSION_KEY)
    device = SealedTOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if request.method == "POST" and device is not None and form.is_valid():
        codes = services.totp_enrolment_confirm(
            user=user, device_id=device.pk, token=form.cleaned_data["token"]
        )
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            request.session.pop(ENROL_SESSION_KEY, None)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        form.add_error("token", _wrong_code())
    if device is None or request.method == "GET":
        device = services.totp_enrolment_start(user=user)
        request.session[ENROL_SESSION_KEY] = device.pk
        if request.method == "GET":
            form = TokenForm()
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#16181d")
    secret = _grouped(_base32(device.bin_key))
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_svg": mark_safe(qr_svg),  # noqa: S308 - made here by segno from our own data
            "secret": secret,
            "next": _next_url(request),
        },
    )


@require_POST
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.staff_sign_out_everywhere(user=request.user)
    logout(request)
    return redirect("console:login")


def _wrong_code() -> str:
    from django.utils.translation import gettext as _

    return _("That code is not right. Check the time on your phone and try again.")


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode("ascii").rstrip("=")


def _grouped(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
