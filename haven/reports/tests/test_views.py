"""The reports page (/console/reports/): who may open it, the public-only version, the
downloads and their audit entries, and that no conversation text ever appears there."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from typing import Any

import pytest
from django.test import Client

from haven.accounts.roles import RULES, Action
from haven.audit.models import AuditEntry
from haven.cases import services as case_services
from haven.chat import services as chat_services
from haven.chat.models import Message
from haven.conftest import sign_in_fully
from haven.reports import pdf
from haven.reports.forms import ReportForm
from haven.reports.render import CSV_COLUMNS
from haven.reports.tests.test_selectors import build_cases

pytestmark = pytest.mark.django_db

URL = "/en/console/reports/"
# Planted in a conversation; it must never reach the page or a download.
SECRET_TEXT = "zebra-lantern-7719 synthetic words nobody may see here"


@pytest.fixture
def people(make_staff) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "counsellor": make_staff("cora", "counsellor"),
        "supervisor": make_staff("sem", "supervisor"),
        "analyst": make_staff("ana", "analyst"),
        "administrator": make_staff("adam", "administrator"),
    }


def signed_in(user: Any) -> Client:
    client = Client()
    sign_in_fully(client, user)
    return client


@pytest.fixture
def analyst(people: dict[str, Any], clock) -> Client:  # type: ignore[no-untyped-def]
    return signed_in(people["analyst"])


@pytest.fixture
def coded_chat(people: dict[str, Any], clock) -> None:  # type: ignore[no-untyped-def]
    """A conversation on 2 March 2026 with a distinctive message, coded as a victim."""
    conversation, _token = chat_services.conversation_start(language="nl")
    chat_services.message_send(
        conversation_id=conversation.id,
        sender=Message.Sender.VISITOR,
        text=SECRET_TEXT,
        client_id=uuid.uuid4().hex,
    )
    chat_services.conversation_accept(
        conversation_id=conversation.id, counsellor=people["counsellor"]
    )
    chat_services.conversation_end(conversation_id=conversation.id, party="visitor")
    case_services.conversation_code(
        actor=people["counsellor"],
        conversation_id=conversation.id,
        answers={"contact_type": "self", "age": 15, "gender": "girl"},
    )


# --- who may open it -----------------------------------------------------------------------


def test_an_analyst_sees_the_report(analyst: Client) -> None:
    build_cases()
    response = analyst.get(URL, {"year": "2020"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-figure="victims">20<' in page
    assert "Confidential." in page
    assert 'data-figure="youngest">9<' in page


@pytest.mark.parametrize("role", ["counsellor", "supervisor", "administrator"])
def test_other_roles_learn_nothing(people: dict[str, Any], clock, role: str) -> None:  # type: ignore[no-untyped-def]
    """Not found, for the page and for every download."""
    client = signed_in(people[role])
    assert client.get(URL).status_code == 404
    for fmt in ("pdf", "csv", "json", "html"):
        assert client.get(URL, {"year": "2020", "format": fmt}).status_code == 404
    assert not AuditEntry.objects.filter(action="report.export").exists()


def test_anonymous_visitors_are_sent_to_the_login(clock) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(URL, {"year": "2020", "format": "json"})
    assert response.status_code == 302
    assert "/console/login/" in response["Location"]


def test_the_page_opens_on_the_latest_year_with_contacts(analyst: Client) -> None:
    """The latest whole year with contacts (today is in 2026)."""
    build_cases()  # the last contact is on 1 January 2021
    response = analyst.get(URL)
    assert response.status_code == 200
    assert response.context["report"].period_label == "2021"


def test_a_contact_this_year_does_not_move_the_page_off_the_last_whole_year(
    analyst: Client, clock
) -> None:  # type: ignore[no-untyped-def]
    """One case coded in the year just begun would make a near-empty report: the page
    still opens on the latest whole year with contacts, and on this year only if no
    earlier year has any."""
    from haven.reports.selectors import landing_year
    from haven.reports.tests.test_selectors import OWN_2019, make_case

    today = clock.moment.date()
    assert landing_year(today=today) == today.year - 1  # no contacts at all
    make_case(OWN_2019, [today])
    assert landing_year(today=today) == today.year
    build_cases()
    assert analyst.get(URL).context["report"].period_label == "2021"


# --- public only ---------------------------------------------------------------------------


def test_without_the_confidential_permission_only_the_public_report_is_given(
    analyst: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No role has the figures without the confidential report today; take the permission
    away from analysts to see what such a role would get: the public version, whatever the
    request says, on the page and in every download."""
    monkeypatch.setitem(RULES, Action.VIEW_CONFIDENTIAL_FIGURES, frozenset())
    build_cases()
    page = analyst.get(URL, {"year": "2020", "public": ""})
    assert page.context["report"].public is True
    assert "Your role shows the public version only." in page.content.decode()
    data = json.loads(analyst.get(URL, {"year": "2020", "format": "json"}).content)
    assert data["classification"] == "public"
    assert data["age_extremes"]["youngest"] is None
    entry = AuditEntry.objects.get(action="report.export")
    assert entry.detail["classification"] == "public"


def test_the_form_forces_the_public_version_without_the_permission(clock) -> None:  # type: ignore[no-untyped-def]
    """The flag itself: without the permission the choice is disabled and public is True."""
    form = ReportForm({"year": "2020"}, confidential_allowed=False)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["public"] is True
    assert form.fields["public"].disabled
    allowed = ReportForm({"year": "2020"}, confidential_allowed=True)
    assert allowed.is_valid() and allowed.cleaned_data["public"] is False
    chosen = ReportForm({"year": "2020", "public": "on"}, confidential_allowed=True)
    assert chosen.is_valid() and chosen.cleaned_data["public"] is True


def test_the_public_version_on_request(analyst: Client) -> None:
    build_cases()
    page = analyst.get(URL, {"year": "2020", "public": "on"}).content.decode()
    assert "Public report. Small numbers are protected" in page
    assert "Counts from 1 to 9 are not shown." in page
    # No youngest age, nor its band: the few under 12 are not described.
    assert 'data-figure="youngest">under 12<' not in page


# --- the form ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"year": "1999"}, "greater than or equal to 2000"),
        ({"year": "2027"}, "less than or equal to 2026"),
        ({"year": "2020", "start": "2020-01-01", "end": "2020-02-01"}, "not both"),
        ({"start": "2020-01-01"}, "needs a first and a last day"),
        ({"start": "2020-03-01", "end": "2020-02-01"}, "before the first day"),
        ({"start": "0001-01-01", "end": "0001-12-31"}, "greater than or equal to"),
        ({"start": "2020-01-01", "end": "9999-12-31"}, "less than or equal to"),
        ({"year": "twenty"}, "Enter a whole number"),
    ],
)
def test_bad_choices_are_refused_with_a_reason(
    analyst: Client, query: dict[str, str], error: str
) -> None:
    """Shown on the page (status 200, no report); never an error page, never a download."""
    response = analyst.get(URL, {**query, "format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.context.get("report") is None
    assert error in response.content.decode()
    assert not AuditEntry.objects.filter(action="report.export").exists()


def test_a_period_of_days(analyst: Client) -> None:
    build_cases()
    response = analyst.get(URL, {"start": "2020-01-01", "end": "2020-06-30"})
    report = response.context["report"]
    assert report.period_label == "2020-01-01/2020-06-30"
    assert (report.start, report.end) == (dt.date(2020, 1, 1), dt.date(2020, 7, 1))


# --- downloads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("pdf", "application/pdf"),
        ("csv", "text/csv; charset=utf-8"),
        ("json", "application/json"),
        ("html", "text/html; charset=utf-8"),
    ],
)
def test_each_download(
    analyst: Client, people: dict[str, Any], fmt: str, content_type: str
) -> None:
    """The right type, as an attachment named after the year and classification, and an
    audit entry saying who took which report in which format."""
    build_cases()
    response = analyst.get(URL, {"year": "2020", "format": fmt})
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="haven-figures-2020-confidential.{fmt}"'
    )
    body = response.content
    if fmt == "pdf":
        assert body.startswith(b"%PDF-")
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
        assert tuple(rows[0]) == CSV_COLUMNS
        assert rows[1][:2] == ["report", "classification"] and rows[1][2] == "confidential"
    elif fmt == "json":
        data = json.loads(body)
        assert data["format"] == "haven-yearly-report" and data["version"] == 1
        assert data["victims"]["count"] == 20
    else:
        assert body.startswith(b"<!doctype html>")
        assert b'data-figure="victims">20<' in body
    [entry] = AuditEntry.objects.filter(action="report.export")
    assert entry.actor == people["analyst"]
    assert entry.target_type == "report"
    assert entry.detail == {"period": "2020", "format": fmt, "classification": "confidential"}


def test_a_public_download_is_named_and_audited_as_public(analyst: Client) -> None:
    build_cases()
    response = analyst.get(URL, {"year": "2020", "public": "on", "format": "csv"})
    assert response["Content-Disposition"].endswith('-2020-public.csv"')
    assert AuditEntry.objects.get(action="report.export").detail["classification"] == "public"


def test_a_period_download_has_a_file_name_without_slashes(analyst: Client) -> None:
    response = analyst.get(URL, {"start": "2020-03-01", "end": "2020-08-31", "format": "json"})
    assert response["Content-Disposition"] == (
        'attachment; filename="haven-figures-2020-03-01_2020-08-31-confidential.json"'
    )


def test_viewing_the_page_is_not_an_export(analyst: Client) -> None:
    analyst.get(URL, {"year": "2020"})
    analyst.get(URL, {"year": "2020", "format": "xml"})  # not a format: the page
    assert not AuditEntry.objects.filter(action="report.export").exists()


def test_the_page_and_the_downloads_never_hold_conversation_text(
    analyst: Client, coded_chat: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A coded conversation with a distinctive message: the report counts its case, and
    nowhere is a word of what was said. (The PDF's text is compressed and set in glyph
    numbers, so for the PDF what it is drawn from is checked.)"""
    drawn: list[str] = []
    original = pdf.render_pdf

    def render_pdf(context: dict[str, Any]) -> bytes:
        drawn.append(repr(context) + repr(vars(context["report"])))
        return original(context)

    monkeypatch.setattr(pdf, "render_pdf", render_pdf)
    page = analyst.get(URL, {"year": "2026"})
    assert page.context["report"].victims.current == 1
    bodies = [page.content]
    for fmt in ("pdf", "csv", "json", "html"):
        bodies.append(analyst.get(URL, {"year": "2026", "format": fmt}).content)
    assert bodies[1].startswith(b"%PDF-")
    for body in bodies:
        assert b"zebra-lantern" not in body
    assert len(drawn) == 1 and "zebra" not in drawn[0]
    for entry in AuditEntry.objects.filter(action="report.export"):
        assert "zebra" not in json.dumps(entry.detail)


def test_the_dutch_page(analyst: Client) -> None:
    build_cases()
    page = analyst.get("/console/reports/", {"year": "2020"}).content.decode()
    assert "<html" in page and 'lang="nl"' in page
    assert "twee derde" in page  # first disclosure, 12 of 18


def test_changes_carry_their_sign() -> None:
    """A rise shows "+", a fall a minus sign (not a hyphen), no change no sign; in Dutch
    with a decimal comma."""
    from django.utils import translation

    from haven.reports import render

    with translation.override("nl"):
        assert render._signed(0.74) == "+0,7"
        assert render._signed(-0.74) == "\N{MINUS SIGN}0,7"
        assert render._signed(0.01) == "0,0"
        assert render._signed(50, 0) == "+50"


@pytest.mark.parametrize(
    "choice",
    [
        {"start": "2020-01-01", "end": "2020-06-30"},  # half a year
        {"start": "2019-07-01", "end": "2020-06-30"},  # a year, but not a calendar year
        {"year": "2026"},  # the clock's year, not ended: its figures would change
    ],
)
def test_public_figures_are_only_for_a_year_that_has_ended(clock, choice: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Two public reports over overlapping periods could be subtracted from each other, so
    the public version is refused for anything but a whole year that has ended, also for
    those who may only see the public version; the confidential one is not."""
    refused = ReportForm({**choice, "public": "on"}, confidential_allowed=True)
    assert not refused.is_valid()
    assert "heel jaar dat voorbij is" in str(refused.errors)  # Dutch by default
    assert not ReportForm(dict(choice), confidential_allowed=False).is_valid()
    if "year" not in choice:
        assert ReportForm(dict(choice), confidential_allowed=True).is_valid()
    assert ReportForm({"year": "2025", "public": "on"}, confidential_allowed=True).is_valid()
    # A calendar year given by its days is that year, and may be public.
    by_days = {"start": "2020-01-01", "end": "2020-12-31", "public": "on"}
    assert ReportForm(by_days, confidential_allowed=True).is_valid()
