"""``haven report``: the figures on the command line, in every format, public or not, for
a year or a period; and the arguments it refuses."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from haven.reports.render import CSV_COLUMNS
from haven.reports.tests.test_selectors import OWN_2019, build_cases, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(clock) -> None:  # type: ignore[no-untyped-def]
    build_cases()


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_by_default_exact_and_confidential(cases: None) -> None:
    out, _err = run("--year", "2020")
    data = json.loads(out)
    assert data["format"] == "haven-yearly-report"
    assert data["classification"] == "confidential"
    assert data["period"] == {"label": "2020", "start": "2020-01-01", "end_exclusive": "2021-01-01"}
    assert data["victims"]["count"] == 20
    assert data["compared_with"] == ["2019", "2018"]
    assert data["age_extremes"]["youngest"] == 9 and data["age_extremes"]["oldest"] == 50
    # Stamped with the time from the clock.
    assert data["generated_at"] == "2026-03-02T09:00:00+00:00"


def test_public_applies_disclosure_control(cases: None) -> None:
    """--public: with the default threshold of 10, the 2018 year of 3 victims is hidden,
    the youngest age is not given, nor its band (fewer than 10 victims are under 12), and
    the rules are listed."""
    data = json.loads(run("--year", "2020", "--public")[0])
    assert data["classification"] == "public"
    assert data["disclosure_control"]["threshold"] == 10
    assert [r["code"] for r in data["disclosure_control"]["rules"]] == [
        "primary",
        "zero",
        "secondary",
        "share",
        "extremes",
    ]
    assert data["victims"]["history"] == [
        {"period": "2019", "count": 10},
        {"period": "2018", "count": None},
    ]
    assert data["age_extremes"]["youngest"] is None
    assert data["age_extremes"]["youngest_band"] is None


def test_the_threshold_can_be_set(cases: None) -> None:
    """With --threshold 3 the 3 victims of 2018 are shown; 0 is not taken as 'default'."""
    data = json.loads(run("--year", "2020", "--public", "--threshold", "3")[0])
    assert data["disclosure_control"]["threshold"] == 3
    assert data["victims"]["history"][1] == {"period": "2018", "count": 3}
    with pytest.raises(CommandError, match="at least 2"):
        run("--year", "2020", "--public", "--threshold", "0")
    with pytest.raises(CommandError, match="at least 2"):
        run("--year", "2020", "--public", "--threshold", "1")


def test_csv(cases: None) -> None:
    rows = list(csv.reader(io.StringIO(run("--year", "2020", "--format", "csv")[0])))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)
    by_key = {(row[1], row[4]): row for row in rows[1:]}
    assert by_key[("victims", "2020")][5] == "20"
    first = by_key[("first_disclosure:yes", "2020")]
    assert (first[5], first[6], first[7], first[10], first[11]) == (
        "12",
        "18",
        "66.67",
        "twee derde",
        "two thirds",
    )
    assert by_key[("first_disclosure:yes", "2019")][5:7] == ["1", "10"]


def test_html_in_either_language(cases: None) -> None:
    dutch = run("--year", "2020", "--format", "html")[0]
    assert dutch.startswith("<!doctype html>")
    assert "twee derde" in dutch and "Vertrouwelijk" in dutch
    english = run("--year", "2020", "--format", "html", "--language", "en")[0]
    assert "two thirds" in english and "Confidential." in english
    assert "<script" not in english


def test_pdf_to_stdout_and_to_a_file(cases: None, capsysbinary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    call_command("report", "--year", "2020", "--format", "pdf")
    assert capsysbinary.readouterr().out.startswith(b"%PDF-")
    target = tmp_path / "figures.pdf"
    _out, err = run("--year", "2020", "--format", "pdf", "--public", "--output", str(target))
    assert f"Wrote {target}" in err
    assert target.read_bytes().startswith(b"%PDF-")


def test_the_pdf_with_many_earlier_years(cases: None, tmp_path: Path) -> None:
    """Twenty earlier years fit no A4 page: the PDF shows the four most recent and says
    that the CSV and JSON hold all of them (it used to fail on a negative column width)."""
    for year in range(2000, 2020):
        make_case(OWN_2019, [dt.date(year, 3, 3)])
    target = tmp_path / "many.pdf"
    run("--year", "2020", "--format", "pdf", "--history", "20", "--language", "en",
        "--output", str(target))  # fmt: skip
    assert target.read_bytes().startswith(b"%PDF-")


def test_every_format_to_a_file(cases: None, tmp_path: Path) -> None:
    for fmt in ("json", "csv", "html", "pdf"):
        target = tmp_path / f"figures.{fmt}"
        out, _err = run("--year", "2020", "--format", fmt, "--output", str(target))
        assert out == ""
        assert target.stat().st_size > 1000


def test_a_period_from_and_to(cases: None) -> None:
    """--to is inclusive: 1 January to 30 June 2020, compared with the same days of 2019."""
    data = json.loads(run("--from", "2020-01-01", "--to", "2020-06-30", "--history", "1")[0])
    assert data["period"] == {
        "label": "2020-01-01/2020-06-30",
        "start": "2020-01-01",
        "end_exclusive": "2020-07-01",
    }
    # Victims with a contact from January to June 2020 (see the CONTACTS of the cases):
    # indices 0-5 (months 1-6) and 12-17 (months 1-6 again): 12.
    assert data["victims"]["count"] == 12
    assert data["compared_with"] == ["2019-01-01/2019-06-30"]


def test_history_zero_compares_with_nothing(cases: None) -> None:
    data = json.loads(run("--year", "2020", "--history", "0")[0])
    assert data["compared_with"] == [] and data["victims"]["change"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Give --year, or --from and --to"),
        (("--from", "2020-01-01"), "Give --year, or --from and --to"),
        (("--year", "2020", "--from", "2020-01-01", "--to", "2020-02-01"), "not both"),
        (("--from", "2020-03-01", "--to", "2020-02-01"), "before --from"),
        (("--from", "0001-01-01", "--to", "0001-12-31"), "must lie in 2000 to 2026"),
        (("--from", "2020-01-01", "--to", "9999-12-31"), "must lie in 2000 to 2026"),
        (("--year", "1"), "--year must be from 2000 to 2026"),
        (("--year", "99999"), "--year must be from 2000 to 2026"),
        (("--year", "2020", "--history", "-1"), "--history must be from 0 to 20"),
        (("--year", "2020", "--history", "21"), "--history must be from 0 to 20"),
        (("--year", "2020", "--format", "xml"), "invalid choice"),
        (("--year", "2020", "--language", "de"), "invalid choice"),
        (("--from", "1 January 2020", "--to", "2020-02-01"), "invalid fromisoformat value"),
        (("--year", "twenty"), "invalid int value"),
    ],
)
def test_bad_arguments_are_refused(clock, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match=message):
        run(*args)


@pytest.mark.parametrize(
    "period",
    [("--from", "2020-03-01", "--to", "2020-08-31"), ("--year", "2026")],
)
def test_public_is_refused_for_anything_but_a_year_that_has_ended(
    cases: None, period: tuple[str, ...]
) -> None:
    """A free period, or the clock's year (not ended), is never published: overlapping
    public reports could be subtracted from each other. The confidential report is made."""
    with pytest.raises(CommandError, match="whole year that has ended"):
        run(*period, "--public")
    assert json.loads(run(*period)[0])["classification"] == "confidential"
