"""Saving, reading and deleting estimates: who may, what is stored, what is audited, and
which estimate a year's report shows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from haven.audit.models import AuditEntry
from haven.chat.services import NotFound
from haven.estimation import selectors, services
from haven.estimation.models import SavedEstimate
from haven.estimation.selection import NoModel
from haven.estimation.table import TableError

pytestmark = pytest.mark.django_db

KOREA = (Path(__file__).parent / "data" / "korea_3lists.csv").read_text()
# Two lists with nobody in common: nothing links them, so no estimate exists.
DISJOINT = "a,b,count\n1,0,5\n0,1,7\n"


def create(actor: Any, **changes: Any) -> SavedEstimate:
    arguments: dict[str, Any] = {
        "title": "Korea, synthetic test",
        "year": 2020,
        "table_csv": KOREA,
        "method": "stepwise",
        "bootstrap": 0,
        "seed": 1234,
        **changes,
    }
    return services.estimate_create(actor=actor, **arguments)


@pytest.fixture
def analyst(make_staff, clock):  # type: ignore[no-untyped-def]
    return make_staff("ana", "analyst")


def test_an_analyst_saves_an_estimate_with_its_result_and_table(analyst: Any, clock: Any) -> None:
    """The result is the estimate of the table (Korea: 268.78), stored with the settings,
    the time and the analyst; the table is kept as the reader wrote it back."""
    saved = create(analyst, title="  Korea  ")
    saved.refresh_from_db()
    assert saved.title == "Korea"
    assert saved.year == 2020
    assert saved.method == "stepwise"
    assert (saved.bootstrap, saved.seed) == (0, 1234)
    assert saved.created_by == analyst
    assert saved.created_at == clock.moment
    assert round(saved.result["total"], 2) == 268.78
    assert round(saved.estimate.total, 2) == 268.78
    assert saved.table_csv.splitlines()[0] == "b,c,d,count"
    assert saved.table.observed == 123


def test_creating_is_audited_with_figures_and_settings_not_the_table(analyst: Any) -> None:
    """One audit entry, "estimate.create", naming the estimate, its settings and total."""
    saved = create(analyst)
    entry = AuditEntry.objects.get(action="estimate.create")
    assert entry.actor == analyst
    assert entry.target_type == "estimate"
    assert entry.target_id == str(saved.id)
    assert entry.detail == {
        "title": "Korea, synthetic test",
        "year": 2020,
        "method": "stepwise",
        "bootstrap": 0,
        "seed": 1234,
        "lists": 3,
        "observed": 123,
        "total": 269,
    }


def test_the_stored_table_holds_list_names_and_counts_only(analyst: Any) -> None:
    """A spreadsheet's CSV (semicolons, byte-order mark, blank lines, spaces) is stored
    rewritten: a plain comma-separated table of the same counts."""
    messy = "\ufeffb ; c ; d ; Count\r\n\r\n0;0;1;41\r\n0;1;0;5\r\n1;0;0;5\r\n1;1;0;54\r\n"
    messy += "1;0;1;6\r\n0;1;1;0\r\n1;1;1;12\r\n"
    saved = create(analyst, table_csv=messy.encode("utf-8"))
    assert saved.table_csv == KOREA.replace("\r\n", "\n")
    assert round(saved.estimate.total, 2) == 268.78


def test_the_bootstrap_is_stored_and_reproducible(analyst: Any) -> None:
    """With replications the BCa interval is stored; the same seed gives the same one."""
    first = create(analyst, bootstrap=30, seed=7)
    second = create(analyst, bootstrap=30, seed=7)
    assert first.result["bootstrap"]["replications"] == 30
    assert first.result["bootstrap"]["seed"] == 7
    assert first.result["bootstrap"] == second.result["bootstrap"]


@pytest.mark.parametrize("role", ["counsellor", "supervisor", "administrator"])
def test_other_roles_cannot_create(make_staff: Any, role: str) -> None:
    """Only analysts: anyone else is refused as if there were nothing, and nothing is
    saved or audited."""
    person = make_staff("someone", role)
    with pytest.raises(NotFound):
        create(person)
    assert not SavedEstimate.objects.exists()
    assert not AuditEntry.objects.filter(action="estimate.create").exists()


def test_a_bad_table_raises_every_problem_with_its_line(analyst: Any) -> None:
    """The reader's problems reach the caller (with line and column); nothing is saved."""
    bad = "b,c,count\n1,0,5\n1,2,3\n0,1,-4\n"
    with pytest.raises(TableError) as caught:
        create(analyst, table_csv=bad)
    where = [(problem.line, problem.column) for problem in caught.value.problems]
    assert (3, "c") in where
    assert (4, "count") in where
    assert not SavedEstimate.objects.exists()
    assert not AuditEntry.objects.filter(action="estimate.create").exists()


def test_a_table_no_model_fits_is_refused_with_the_reason(analyst: Any) -> None:
    with pytest.raises(NoModel) as caught:
        create(analyst, table_csv=DISJOINT)
    assert caught.value.message.code == "two_lists_no_overlap"
    assert "nobody in common" in caught.value.message.render()
    assert not SavedEstimate.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "   "},
        {"title": "x" * 201},
        {"year": 1999},
        {"year": 2027},  # the clock says 2026
        {"method": "lasso"},
        {"bootstrap": -1},
        {"bootstrap": 1001},
        {"seed": -1},
    ],
)
def test_settings_out_of_range_are_refused(analyst: Any, changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        create(analyst, **changes)
    assert not SavedEstimate.objects.exists()


def test_an_estimate_without_a_year_is_attached_to_no_report(analyst: Any) -> None:
    saved = create(analyst, year=None)
    assert saved.year is None
    assert selectors.attached_estimate(2020) is None


# --- reading --------------------------------------------------------------------------------


def test_analysts_see_every_estimate_and_others_none(make_staff: Any, analyst: Any) -> None:
    """Estimates are shared among analysts (they feed the yearly report); for anyone else
    an estimate does not exist, nor does a malformed id."""
    other = make_staff("bo", "analyst")
    saved = create(analyst)
    assert selectors.access_estimate(other, saved.id) == saved
    assert list(selectors.estimates_for(other)) == [saved]
    for role in ("counsellor", "supervisor", "administrator"):
        person = make_staff(f"p-{role}", role)
        assert selectors.access_estimate(person, saved.id) is None
        assert not selectors.estimates_for(person).exists()
    assert selectors.access_estimate(other, "not-a-uuid") is None


def test_the_report_of_a_year_shows_the_newest_estimate_of_that_year(
    analyst: Any, clock: Any
) -> None:
    older = create(analyst, title="first")
    clock.advance(hours=1)
    newer = create(analyst, title="second")
    clock.advance(hours=1)
    create(analyst, title="other year", year=2019)
    assert selectors.attached_estimate(2020) == newer
    services.estimate_delete(actor=analyst, estimate_id=newer.id)
    assert selectors.attached_estimate(2020) == older
    assert selectors.attached_estimate(2021) is None


def test_only_a_calendar_year_report_gets_the_estimate(analyst: Any) -> None:
    """The report's entry: figures, the interval and its kind, the model and warnings in
    both languages; only for a report of one whole calendar year."""
    create(analyst)
    entry = selectors.report_estimate(start=dt.date(2020, 1, 1), end=dt.date(2021, 1, 1))
    assert entry is not None
    assert entry["title"] == "Korea, synthetic test"
    assert entry["total"] == 268.78
    assert entry["unseen"] == 145.78
    assert entry["one_in"] == 2
    assert entry["interval"]["kind"] == "model"
    assert entry["model"]["en"] == "main effects plus b\N{MULTIPLICATION SIGN}c"
    assert entry["model"]["nl"] == "hoofdeffecten plus b\N{MULTIPLICATION SIGN}c"
    assert entry["seen_sentence"]["nl"].startswith("ongeveer")
    assert [w["code"] for w in entry["warnings"]] == ["methods_disagree"]
    for start, end in [
        (dt.date(2020, 1, 1), dt.date(2020, 7, 1)),
        (dt.date(2019, 7, 1), dt.date(2020, 7, 1)),
        (dt.date(2020, 1, 1), dt.date(2022, 1, 1)),
    ]:
        assert selectors.report_estimate(start=start, end=end) is None


def test_public_output_leaves_out_an_estimate_from_few_people(analyst: Any) -> None:
    """Korea has 123 people seen: public at threshold 10, not at threshold 124. The
    internal report always shows it."""
    create(analyst)
    year = {"start": dt.date(2020, 1, 1), "end": dt.date(2021, 1, 1)}
    assert selectors.report_estimate(**year, public=True, threshold=10) is not None
    assert selectors.report_estimate(**year, public=True, threshold=124) is None
    assert selectors.report_estimate(**year, public=False, threshold=124) is not None


def test_a_bootstrap_estimate_quotes_the_bca_interval_in_the_report(analyst: Any) -> None:
    create(analyst, bootstrap=30)
    entry = selectors.report_estimate(start=dt.date(2020, 1, 1), end=dt.date(2021, 1, 1))
    assert entry is not None
    assert entry["interval"]["kind"] == "bca"


# --- export and delete ----------------------------------------------------------------------


def test_export_is_the_result_with_what_was_saved_and_is_audited(analyst: Any) -> None:
    saved = create(analyst)
    data = services.estimate_export(actor=analyst, estimate_id=saved.id)
    assert data["format"] == "haven-mse"
    assert round(data["total"], 2) == 268.78
    assert data["saved"]["title"] == "Korea, synthetic test"
    assert data["saved"]["table_csv"] == saved.table_csv
    assert AuditEntry.objects.filter(action="estimate.export", target_id=str(saved.id)).exists()


def test_export_is_refused_to_other_roles(make_staff: Any, analyst: Any) -> None:
    saved = create(analyst)
    with pytest.raises(NotFound):
        services.estimate_export(actor=make_staff("sem", "supervisor"), estimate_id=saved.id)
    assert not AuditEntry.objects.filter(action="estimate.export").exists()


def test_any_analyst_may_delete_and_it_is_audited(make_staff: Any, analyst: Any) -> None:
    saved = create(analyst)
    other = make_staff("bo", "analyst")
    services.estimate_delete(actor=other, estimate_id=saved.id)
    assert not SavedEstimate.objects.exists()
    entry = AuditEntry.objects.get(action="estimate.delete")
    assert entry.actor == other
    assert entry.target_id == str(saved.id)
    assert entry.detail == {
        "title": "Korea, synthetic test",
        "year": 2020,
        "method": "stepwise",
        "total": 269,
    }


def test_the_creator_cannot_delete_after_leaving_the_analysts(analyst: Any) -> None:
    """Deleting follows the role, not authorship: someone who is no longer an analyst
    cannot change which estimate a yearly report shows, not even with their own."""
    from django.contrib.auth.models import Group

    saved = create(analyst)
    analyst.groups.set(Group.objects.none())
    analyst = type(analyst).objects.get(pk=analyst.pk)  # no cached roles
    with pytest.raises(NotFound):
        services.estimate_delete(actor=analyst, estimate_id=saved.id)
    assert SavedEstimate.objects.filter(pk=saved.pk).exists()


@pytest.mark.parametrize("role", ["counsellor", "supervisor", "administrator"])
def test_others_cannot_delete(make_staff: Any, analyst: Any, role: str) -> None:
    saved = create(analyst)
    with pytest.raises(NotFound):
        services.estimate_delete(actor=make_staff("x", role), estimate_id=saved.id)
    assert SavedEstimate.objects.filter(pk=saved.pk).exists()
    assert not AuditEntry.objects.filter(action="estimate.delete").exists()


def test_deleting_a_missing_estimate_is_not_found(analyst: Any) -> None:
    for missing in ("00000000-0000-0000-0000-000000000000", "nonsense"):
        with pytest.raises(NotFound):
            services.estimate_delete(actor=analyst, estimate_id=missing)
