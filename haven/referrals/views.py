"""Supervisors manage the referral directory: a list, a form, a delete button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.chat.services import NotFound
from haven.core.i18n import language_switch
from haven.referrals import selectors, services
from haven.referrals.forms import ReferralForm
from haven.referrals.models import Referral


@login_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.MANAGE_REFERRALS):
        raise Http404
    return render(
        request,
        "referrals/list.html",
        {"other_language": language_switch(request), "referrals": Referral.objects.all()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def referral_edit(request: HttpRequest, referral_id: int | None = None) -> HttpResponse:
    if referral_id is None:
        if not can(request.user, Action.MANAGE_REFERRALS):
            raise Http404
        instance = Referral()
    else:
        found = selectors.access_referral(request.user, referral_id)
        if found is None:
            raise Http404
        instance = found
    form = ReferralForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_save(actor=request.user, referral=form.save(commit=False))
        except NotFound:
            raise Http404 from None
        messages.success(request, _("The referral is saved."))
        return redirect("referrals:list")
    return render(
        request,
        "referrals/edit.html",
        {"other_language": language_switch(request), "form": form, "referral": instance},
    )


@login_required
@require_POST
def referral_delete(request: HttpRequest, referral_id: int) -> HttpResponse:
    try:
        services.referral_delete(actor=request.user, referral_id=referral_id)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The referral is deleted."))
    return redirect("referrals:list")
