"""``haven demo-data``: invented coded cases whose report shows figures like those the
knowledge centre published for 2020, with trends over 2019-2022; refused beside real
cases; the same seed gives the same data."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from haven.cases.models import Case
from haven.reports import demo, render
from haven.reports.figures import Report, trend_series
from haven.reports.selectors import yearly_report
from haven.reports.tests.test_selectors import OWN_2019, make_case

pytestmark = pytest.mark.django_db


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("demo-data", *args, stdout=out)
    return out.getvalue()


def report(year: int, *, public: bool = False) -> Report:
    return yearly_report(
        start=dt.date(year, 1, 1), end=dt.date(year + 1, 1, 1), public=public, threshold=10
    )


def rising(values: list[float | None]) -> bool:
    return all(a is not None and b is not None and a < b for a, b in itertools.pairwise(values))


@pytest.fixture
def loaded(clock) -> str:  # type: ignore[no-untyped-def]
    return load()


def test_the_2020_report_shows_the_published_figures(loaded: str) -> None:
    """250 victims, 150 of them children, one in five of those 15 or younger; youngest 9,
    oldest 50; almost two thirds telling for the first time; about one in seven with
    (step)parents involved, mother and father equally often, and where both were, mostly
    for two years or more; 92.5% girls of those whose gender is known; a quarter
    blackmailed with nude images."""
    assert "Stored 1103 INVENTED coded cases (2019, 2020, 2021, 2022)" in loaded
    r = report(2020)
    assert r.victims.current == 250
    assert r.synthetic == 250
    minors = r.figure("age:minor").current
    assert (minors.count, minors.base) == (150, 250)
    young = r.figure("age:up_to_15")
    assert (young.current.count, young.current.base) == (30, 150)
    assert (young.phrase_nl, young.phrase_en) == ("een op de vijf", "one in five")
    assert (r.youngest, r.oldest) == (9, 50)
    first = r.figure("first_disclosure:yes")
    assert (first.phrase_nl, first.phrase_en) == ("bijna twee derde", "almost two thirds")
    parents = r.figure("parents:any")
    assert parents.phrase_en is not None and parents.phrase_en.endswith("one in seven")
    assert parents.phrase_nl is not None and parents.phrase_nl.endswith("een op de zeven")
    assert r.figure("parents:father").current.count == r.figure("parents:mother").current.count
    long = r.figure("parents:both:long").current
    assert long.count is not None and long.base is not None and long.count / long.base > 0.5
    girls = r.figure("gender:girl").current
    assert girls.percent == pytest.approx(92.5)
    assert girls.unknown_left_out is not None and girls.unknown_left_out > 0
    sextortion = r.figure("sextortion:yes")
    assert sextortion.current.percent == pytest.approx(25.0)
    assert sextortion.phrase_en == "a quarter"
    # In 2019 one in fifteen said their (step)parents were involved.
    assert r.figure("parents:any").history[0].label == "2019"
    assert report(2019).figure("parents:any").phrase_en == "about one in fifteen"


def test_trends_over_2019_to_2022(loaded: str) -> None:
    """Recruitment through social media grows every year; so does sextortion."""
    r = report(2022)
    labels, [social, sextortion] = trend_series(r, ["recruitment:social_media", "sextortion:yes"])
    assert labels == ["2019", "2020", "2021", "2022"]
    assert rising(social) and rising(sextortion)
    # The public report draws the same trend.
    public = report(2022, public=True)
    assert trend_series(public, ["recruitment:social_media"])[1][0] == social


def test_the_report_says_the_data_are_invented(loaded: str) -> None:
    data = json.loads(render.to_json(report(2020, public=True)))
    assert data["invented_cases"] == 250
    with translation.override("en"):
        assert "These are not real figures." in render.to_html(report(2020))


def test_victims_who_come_back_count_in_both_years(loaded: str) -> None:
    """2021 plans 270 victims, 12 of them returning from 2020: each is counted in both."""
    assert report(2021).victims.current == 270
    assert Case.objects.filter(contacts__on__year=2020).distinct().count() == 250 + 30
    # 30: the contacts without data of 2020, in the database but not in the figures.


def test_no_data_contacts_are_stored_but_not_counted(loaded: str) -> None:
    assert Case.objects.filter(contact_type__in=["silent", "test", "abusive"]).count() == 4 * 30


def test_refused_when_real_cases_exist(clock) -> None:  # type: ignore[no-untyped-def]
    make_case(OWN_2019, [dt.date(2020, 5, 5)])
    with pytest.raises(CommandError, match="holds real cases"):
        load()
    assert not Case.objects.filter(synthetic=True).exists()


def test_refused_in_production_mode(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        load()
    assert not Case.objects.exists()


def test_if_empty_loads_once_and_never_beside_real_cases(clock) -> None:  # type: ignore[no-untyped-def]
    """`make run` calls `demo-data --if-empty` on every start: the first start loads the
    invented cases, later starts keep them as they are, and a database with a real case is
    left alone without an error."""
    assert "Stored" in load("--if-empty")
    first = set(Case.objects.values_list("id", flat=True))
    assert "no invented cases added" in load("--if-empty")
    assert set(Case.objects.values_list("id", flat=True)) == first

    Case.objects.all().delete()
    make_case(OWN_2019, [dt.date(2020, 5, 5)])
    assert "no invented cases added" in load("--if-empty")
    assert not Case.objects.filter(synthetic=True).exists()


def stored() -> list[tuple[object, ...]]:
    """The invented cases as stored, without their random ids: answers and contact days."""
    rows = []
    for case in Case.objects.prefetch_related("contacts"):
        answers = tuple(sorted(case.answers().items()))
        days = tuple(sorted(contact.on for contact in case.contacts.all()))
        rows.append((answers, days))
    return sorted(rows, key=repr)


def test_the_same_seed_gives_the_same_data(clock) -> None:  # type: ignore[no-untyped-def]
    """Loading again replaces the invented cases; with the same seed they are the same
    cases, with another seed different ones."""
    load("--seed", "7")
    first = stored()
    load("--seed", "7")
    assert stored() == first
    assert Case.objects.count() == len(first)
    load("--seed", "8")
    assert stored() != first
    assert demo.generate(seed=7) == demo.generate(seed=7)
