"""Supervisors manage the canned responses: a list, a form, a delete button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.canned import selectors, services
from haven.canned.forms import CannedForm
from haven.canned.models import CannedResponse
from haven.chat.services import NotFound
from haven.core.i18n import language_switch


@login_required
@require_GET
def canned_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.MANAGE_CANNED):
        raise Http404
    return render(
        request,
        "canned/list.html",
        {"other_language": language_switch(request), "responses": CannedResponse.objects.all()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def canned_edit(request: HttpRequest, response_id: int | None = None) -> HttpResponse:
    if response_id is None:
        if not can(request.user, Action.MANAGE_CANNED):
            raise Http404
        instance = CannedResponse()
    else:
        found = selectors.access_canned(request.user, response_id)
        if found is None:
            raise Http404
        instance = found
    form = CannedForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.canned_save(actor=request.user, response=form.save(commit=False))
        except NotFound:
            raise Http404 from None
        messages.success(request, _("The canned response is saved."))
        return redirect("canned:list")
    return render(
        request,
        "canned/edit.html",
        {"other_language": language_switch(request), "form": form, "response": instance},
    )


@login_required
@require_POST
def canned_delete(request: HttpRequest, response_id: int) -> HttpResponse:
    try:
        services.canned_delete(actor=request.user, response_id=response_id)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The canned response is deleted."))
    return redirect("canned:list")
