"""The reports page for analysts: figures only, never a transcript or a single case."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.services import audit_record
from haven.core import clock
from haven.core.i18n import language_switch
from haven.estimation.selectors import report_estimate
from haven.feedback.selectors import feedback_figures
from haven.reports import render as report_render
from haven.reports.forms import ReportForm
from haven.reports.selectors import landing_year, yearly_report

DOWNLOADS = {
    "pdf": ("application/pdf", "pdf"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "html": ("text/html; charset=utf-8", "html"),
}


@login_required
@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    """Analysts choose a year or period and see the report, or download it. Those who may
    see only the public version get it whatever they ask for."""
    if not can(request.user, Action.VIEW_FIGURES):
        raise Http404
    confidential_allowed = can(request.user, Action.VIEW_CONFIDENTIAL_FIGURES)
    data = request.GET.copy()
    if not any(data.get(key) for key in ("year", "start", "end")):
        data["year"] = str(landing_year(today=clock.now().date()))
    form = ReportForm(data, confidential_allowed=confidential_allowed)
    context: dict[str, object] = {"form": form, "other_language": language_switch(request)}
    if form.is_valid():
        public = bool(form.cleaned_data["public"])
        report = yearly_report(
            start=form.cleaned_data["period_start"],
            end=form.cleaned_data["period_end"],
            public=public,
            threshold=settings.HAVEN_REPORT_THRESHOLD,
            generated_at=clock.now(),
        )
        # A calendar year's report shows the estimate attached to that year, if any.
        report.estimate = report_estimate(
            start=report.start, end=report.end, public=report.public, threshold=report.threshold
        )
        report.feedback = feedback_figures(
            start=report.start, end=report.end, public=report.public, threshold=report.threshold
        )
        fmt = request.GET.get("format", "")
        if fmt in DOWNLOADS:
            return _download(request, report, fmt)
        query = {k: v for k, v in form.data.items() if k != "format" and v}
        context.update(report_render.context(report))
        context["query"] = urlencode(query)
        context["downloads"] = [
            ("pdf", "PDF"),
            ("csv", "CSV"),
            ("json", "JSON"),
            ("html", _("web page")),
        ]
    return render(request, "reports/page.html", context)


def _download(request: HttpRequest, report: report_render.Report, fmt: str) -> HttpResponse:
    content_type, extension = DOWNLOADS[fmt]
    if fmt == "pdf":
        body: str | bytes = report_render.to_pdf(report)
    elif fmt == "csv":
        body = report_render.to_csv(report)
    elif fmt == "json":
        body = report_render.to_json(report)
    else:
        body = report_render.to_html(report)
    audit_record(
        actor=request.user,
        action="report.export",
        target_type="report",
        detail={
            "period": report.period_label,
            "format": fmt,
            "classification": "public" if report.public else "confidential",
        },
    )
    kind = "public" if report.public else "confidential"
    filename = f"haven-figures-{report.period_label.replace('/', '_')}-{kind}.{extension}"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
