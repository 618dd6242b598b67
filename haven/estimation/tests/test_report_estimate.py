"""An estimate attached to a year appears in that year's report (page, JSON, CSV, HTML, PDF
and `haven report`), and in no other report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from haven.conftest import sign_in_fully
from haven.estimation import services
from haven.estimation.models import SavedEstimate
from haven.reports import pdf
from haven.reports.selectors import yearly_report

pytestmark = pytest.mark.django_db

KOREA = (Path(__file__).parent / "data" / "korea_3lists.csv").read_text()
URL = "/en/console/reports/"
X = "\N{MULTIPLICATION SIGN}"
SUMMARY = (
    "An estimated 269 victims in all (95% interval from the model: 203\N{EN DASH}390), of "
    "whom about 146 are on no register. About one in 2 victims is seen."
)


@pytest.fixture
def analyst(make_staff, clock):  # type: ignore[no-untyped-def]
    return make_staff("ana", "analyst")


@pytest.fixture
def client(analyst: Any) -> Client:
    client = Client()
    sign_in_fully(client, analyst)
    return client


@pytest.fixture
def attached(analyst: Any) -> SavedEstimate:
    """Korea attached to 2020 (no bootstrap, to stay fast), and one attached to no year."""
    services.estimate_create(
        actor=analyst, title="Not attached", year=None, table_csv=KOREA, method="bic",
        bootstrap=0, seed=1,
    )  # fmt: skip
    return services.estimate_create(
        actor=analyst, title="Registers 2020 (synthetic)", year=2020, table_csv=KOREA,
        method="stepwise", bootstrap=0, seed=1234,
    )  # fmt: skip


def test_the_2020_json_holds_the_estimate_and_2019_none(
    client: Client, attached: SavedEstimate
) -> None:
    data = json.loads(client.get(URL, {"year": "2020", "format": "json"}).content)
    entry = data["estimate"]
    assert entry["title"] == "Registers 2020 (synthetic)"
    assert entry["id"] == str(attached.id)
    assert entry["created_at"] == attached.created_at.isoformat()
    assert entry["total"] == 268.78
    assert entry["unseen"] == 145.78
    assert entry["share_seen"] == 0.4576
    assert entry["one_in"] == 2
    assert entry["interval"] == {"lower": 202.53, "upper": 390.2, "level": 0.95, "kind": "model"}
    assert entry["model"] == {
        "nl": f"hoofdeffecten plus b{X}c",
        "en": f"main effects plus b{X}c",
    }
    assert entry["seen_sentence"]["en"] == "about one in 2 victims is seen"
    assert [w["code"] for w in entry["warnings"]] == ["methods_disagree"]
    assert entry["warnings"][0]["en"].startswith("The ways of choosing a model disagree")
    earlier = json.loads(client.get(URL, {"year": "2019", "format": "json"}).content)
    assert earlier["estimate"] is None


def test_the_page_and_the_html_show_the_estimate_after_the_headline(
    client: Client, attached: SavedEstimate
) -> None:
    for body in (
        client.get(URL, {"year": "2020"}).content.decode(),
        client.get(URL, {"year": "2020", "format": "html"}).content.decode(),
    ):
        assert "Estimate of all victims, seen and unseen" in body
        assert SUMMARY in body
        assert f"Model: main effects plus b{X}c." in body
        assert "The ways of choosing a model disagree" in body
        assert "Registers 2020 (synthetic)" in body
        assert body.index('class="report-headline"') < body.index('id="estimate-title"')
        assert body.index('id="estimate-title"') < body.index('class="report-section"')
    page = client.get(URL, {"year": "2019"}).content.decode()
    assert "Estimate of all victims" not in page
    assert "Registers 2020" not in page


def test_the_dutch_page_words_the_estimate_in_dutch(
    client: Client, attached: SavedEstimate
) -> None:
    page = client.get("/console/reports/", {"year": "2020"}).content.decode()
    assert f"hoofdeffecten plus b{X}c" in page
    assert "Ongeveer één op de 2 slachtoffers wordt gezien." in page


def test_the_page_links_to_the_estimates(client: Client) -> None:
    page = client.get(URL, {"year": "2020"}).content.decode()
    assert 'href="/en/console/estimates/"' in page


def test_the_csv_has_estimate_rows_in_both_languages(
    client: Client, attached: SavedEstimate
) -> None:
    body = client.get(URL, {"year": "2020", "format": "csv"}).content.decode()
    rows = [row for row in csv.DictReader(io.StringIO(body)) if row["section"] == "estimate"]
    by_key = {row["key"]: row for row in rows}
    assert list(by_key) == [
        "estimate:title",
        "estimate:total",
        "estimate:unseen",
        "estimate:share_seen",
        "estimate:interval",
        "estimate:model",
        "estimate:warning:methods_disagree",
    ]
    total = by_key["estimate:total"]
    assert (total["period"], total["count"], total["ci_low"], total["ci_high"]) == (
        "2020", "269", "203", "390",
    )  # fmt: skip
    assert total["phrase_en"] == "about one in 2 victims is seen"
    assert by_key["estimate:unseen"]["count"] == "146"
    assert by_key["estimate:share_seen"]["percent"] == "45.76"
    assert by_key["estimate:interval"]["label_en"] == "95% interval from the model"
    assert by_key["estimate:model"]["phrase_nl"] == f"hoofdeffecten plus b{X}c"
    assert by_key["estimate:title"]["phrase_en"] == "Registers 2020 (synthetic)"
    earlier = client.get(URL, {"year": "2019", "format": "csv"}).content.decode()
    assert ",estimate:" not in earlier


def test_the_pdf_is_drawn_with_the_estimate(
    client: Client, attached: SavedEstimate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(The PDF's text is compressed glyph numbers, so what it is drawn from is checked.)"""
    drawn: list[dict[str, Any]] = []
    original = pdf.render_pdf

    def render_pdf(context: dict[str, Any]) -> bytes:
        drawn.append(context)
        return original(context)

    monkeypatch.setattr(pdf, "render_pdf", render_pdf)
    body = client.get(URL, {"year": "2020", "format": "pdf"}).content
    assert body.startswith(b"%PDF-")
    assert drawn[0]["estimate"]["summary"] == SUMMARY
    client.get(URL, {"year": "2019", "format": "pdf"})
    assert drawn[1]["estimate"] is None


def test_a_period_that_is_not_a_calendar_year_shows_no_estimate(
    client: Client, attached: SavedEstimate
) -> None:
    half = {"start": "2020-01-01", "end": "2020-06-30", "format": "json"}
    assert json.loads(client.get(URL, half).content)["estimate"] is None
    whole = {"start": "2020-01-01", "end": "2020-12-31", "format": "json"}
    assert json.loads(client.get(URL, whole).content)["estimate"]["total"] == 268.78


def test_the_newest_estimate_of_the_year_is_the_one_shown(
    client: Client, analyst: Any, attached: SavedEstimate, clock: Any
) -> None:
    clock.advance(hours=1)
    services.estimate_create(
        actor=analyst, title="Registers 2020, revised", year=2020, table_csv=KOREA,
        method="bic", bootstrap=0, seed=1,
    )  # fmt: skip
    data = json.loads(client.get(URL, {"year": "2020", "format": "json"}).content)
    assert data["estimate"]["title"] == "Registers 2020, revised"
    assert round(data["estimate"]["total"]) == 157


def test_the_report_command_includes_the_estimate(attached: SavedEstimate) -> None:
    out = io.StringIO()
    call_command("report", "--year", "2020", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["estimate"]["total"] == 268.78
    out = io.StringIO()
    call_command("report", "--year", "2019", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["estimate"] is None
    out = io.StringIO()
    call_command("report", "--year", "2020", "--format", "csv", stdout=out)
    assert "estimate:total" in out.getvalue()


def test_the_report_command_words_the_estimate_in_its_language(attached: SavedEstimate) -> None:
    out = io.StringIO()
    call_command("report", "--year", "2020", "--format", "html", "--language", "en", stdout=out)
    assert SUMMARY in out.getvalue()
    out = io.StringIO()
    call_command("report", "--year", "2020", "--format", "html", stdout=out)
    assert "Ongeveer één op de 2 slachtoffers wordt gezien." in out.getvalue()


def test_the_yearly_report_query_count_does_not_change(attached: SavedEstimate) -> None:
    """The estimate is fetched beside the report, not inside it: yearly_report makes as
    many queries with an estimate attached as without."""
    arguments: dict[str, Any] = {
        "start": dt.date(2020, 1, 1), "end": dt.date(2021, 1, 1), "public": False,
        "threshold": 10,
    }  # fmt: skip
    with CaptureQueriesContext(connection) as with_estimate:
        report = yearly_report(**arguments)
    SavedEstimate.objects.all().delete()
    with CaptureQueriesContext(connection) as without:
        yearly_report(**arguments)
    assert len(with_estimate.captured_queries) == len(without.captured_queries)
    assert report.estimate is None  # set by the page and the command, not here
