"""The whole-report audit (haven/reports/audit.py and its use in figures.py).

The property test plays the attacker of docs/reports.md with its own integer programme,
written here from the published JSON alone and from the definitions of the counts (not
from the product's ``identities`` or ``_reader``): for random small case files, no
withheld figure of a public report can be worked out.

The case files are synthetic codes only (answers to the codebook's questions), never text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from haven.cases import codebook
from haven.reports import audit, figures, render
from haven.reports.figures import WITHHELD, Period, build

PARENTS = ("father", "mother", "stepfather", "stepmother")
KINDS = [c for c in codebook.BY_NAME["perpetrators"].codes if c != "unknown"]


# --- the test's own counting, from the definitions in selectors' docstring ---------------


def tally(cases: Sequence[Mapping[str, Any]]) -> dict[str, int | None]:
    """Every count the report reads, counted case by case (the selectors count in SQL;
    test_counting_matches_the_database checks the two agree)."""
    out: dict[str, int | None] = {}

    def n(name: str, hit: bool = True) -> None:
        out[name] = out.get(name, 0) or 0
        if hit:
            out[name] = int(out[name] or 0) + 1

    names = [
        "victims",
        "synthetic",
        "contact_type:self",
        "contact_type:about_victim",
        "age:told",
        "age:minor",
        "age:adult",
        "age:up_to_15",
        "parents:any",
        "parents:both",
        "perpetrators:known",
        "perpetrators:several",
    ]
    for question in codebook.QUESTIONS:
        if question.name in ("contact_type",) or not question.codes:
            continue
        for code in question.codes:
            if code:
                names.append(f"{question.name}:{code}")
        if question.kind is codebook.Kind.MANY:
            names.append(f"{question.name}:any")
    names += [f"parents:{p}" for p in PARENTS]
    names += [f"parents:both:duration:{c}" for c in codebook.BY_NAME["duration"].codes]
    for name in names:
        n(name, hit=False)
    ages = [case["age"] for case in cases if case["age"] is not None]
    out["age:youngest"] = min(ages) if ages else None
    out["age:oldest"] = max(ages) if ages else None
    for case in cases:
        n("victims")
        n(f"contact_type:{case['contact_type']}")
        band = case["age_band"]
        n(f"age_band:{band}")
        if case["age"] is not None:
            n("age:told")
        if band in ("under_12", "12_15", "16_17"):
            n("age:minor")
        elif band != "unknown":
            n("age:adult")
        if band in ("under_12", "12_15"):
            n("age:up_to_15")
        for question in ("gender", "first_disclosure", "still_exploited", "sextortion"):
            n(f"{question}:{case[question]}")
        n(f"recruitment:{case['recruitment']}")
        if case["recruitment"] == "social_media":
            n(f"platform:{case['platform']}")
        n(f"urgency:{case['urgency']}")
        n(f"duration:{case['duration']}")
        for question in ("exploitation", "perpetrators", "referrals"):
            ticked = case[question]
            for code in ticked:
                n(f"{question}:{code}")
            if [c for c in ticked if c != "unknown"]:
                n(f"{question}:any")
        ticked = set(case["perpetrators"])
        if ticked & set(PARENTS):
            n("parents:any")
        for parent in PARENTS:
            if parent in ticked:
                n(f"parents:{parent}")
        if ticked & {"father", "stepfather"} and ticked & {"mother", "stepmother"}:
            n("parents:both")
            n(f"parents:both:duration:{case['duration']}")
        kinds = ticked - {"unknown"}
        if case["perpetrator_count"] is not None or kinds:
            n("perpetrators:known")
        count = case["perpetrator_count"]
        if (count is not None and count >= 2) or (count is None and len(kinds) >= 2):
            n("perpetrators:several")
    return out


# --- random small case files ---------------------------------------------------------------


def _one(question: str) -> st.SearchStrategy[str]:
    return st.sampled_from([c for c in codebook.BY_NAME[question].codes if c])


def _many(question: str, *, exclusive: str | None = None) -> st.SearchStrategy[tuple[str, ...]]:
    codes = [c for c in codebook.BY_NAME[question].codes if c != exclusive]
    chosen = st.lists(st.sampled_from(codes), max_size=3, unique=True).map(
        lambda ticked: tuple(c for c in codes if c in ticked)
    )
    if exclusive is None:
        return chosen
    return st.one_of(chosen, st.just((exclusive,)))


@st.composite
def a_case(draw: st.DrawFn) -> dict[str, Any]:
    # A few kinds of answer, each often the same, so that small and large cells both occur.
    age = draw(st.one_of(st.none(), st.integers(9, 40)))
    band = codebook.band_for_age(age) if age is not None else draw(_one("age_band"))
    recruitment = draw(_one("recruitment"))
    platform = draw(_one("platform")) if recruitment == "social_media" else ""
    perpetrators = draw(
        st.one_of(
            st.sampled_from([("father",), ("mother",), ("father", "mother"), ("stepfather",)]),
            _many("perpetrators", exclusive="unknown"),
        )
    )
    return {
        "contact_type": draw(st.sampled_from(["self", "self", "about_victim"])),
        "age": age,
        "age_band": band,
        "gender": draw(st.sampled_from(["girl", "girl", "boy", "non_binary", "unknown"])),
        "first_disclosure": draw(_one("first_disclosure")),
        "still_exploited": draw(_one("still_exploited")),
        "sextortion": draw(_one("sextortion")),
        "recruitment": recruitment,
        "platform": platform,
        "urgency": draw(_one("urgency")),
        "duration": draw(_one("duration")),
        "exploitation": draw(_many("exploitation")),
        "perpetrators": perpetrators,
        "perpetrator_count": draw(st.one_of(st.none(), st.integers(1, 3))),
        "referrals": draw(_many("referrals")),
    }


case_files = st.lists(a_case(), min_size=0, max_size=45)


# --- the test's own attacker ----------------------------------------------------------------


def meaning(key: str) -> tuple[str, str, str | None]:
    """What a figure of the JSON is: (count, base total, unknowns its base may leave out)."""
    question, _, code = key.partition(":")
    if key in ("contact:self", "contact:about_victim"):
        return (f"contact_type:{code}", "victims", None)
    if key == "age:unknown":
        return ("age_band:unknown", "victims", None)
    if key == "age:up_to_15":
        return (key, "age:minor", None)
    if question == "age":
        return (key, "victims", None)
    if question in ("gender", "first_disclosure", "still_exploited", "sextortion", "recruitment"):
        return (key, "victims", f"{question}:unknown")
    if key == "parents:any":
        return (key, "victims", None)
    if key == "parents:both:long":
        return ("parents:both:duration:long", "parents:both", "parents:both:duration:unknown")
    if question == "parents":
        return (key, "parents:any", None)
    if key == "perpetrators:several":
        return (key, "victims", "perpetrators:not_known")
    if question == "platform":
        return (key, "recruitment:social_media", "platform:unknown")
    return (key, "victims", None)


def definitions() -> list[tuple[dict[str, int], float, float]]:
    """What holds between the counts by their definition, as (expression, low, high)."""
    rows: list[tuple[dict[str, int], float, float]] = []

    def adds_up(parts: Sequence[str], whole: str) -> None:
        expr = dict.fromkeys(parts, 1)
        expr[whole] = -1
        rows.append((expr, 0, 0))

    def at_most(small: str, large: str) -> None:
        rows.append(({large: 1, small: -1}, 0, np.inf))

    adds_up(["contact_type:self", "contact_type:about_victim"], "victims")
    adds_up(["age:minor", "age:adult", "age_band:unknown"], "victims")
    at_most("age:up_to_15", "age:minor")
    for question in ("gender", "first_disclosure", "still_exploited", "sextortion"):
        adds_up([f"{question}:{c}" for c in codebook.BY_NAME[question].codes], "victims")
    adds_up([f"recruitment:{c}" for c in codebook.BY_NAME["recruitment"].codes], "victims")
    adds_up([f"urgency:{c}" for c in codebook.BY_NAME["urgency"].codes], "victims")
    platforms = [f"platform:{c}" for c in codebook.BY_NAME["platform"].codes if c]
    adds_up(platforms, "recruitment:social_media")
    adds_up(["perpetrators:known", "perpetrators:not_known"], "victims")
    at_most("perpetrators:any", "perpetrators:known")
    at_most("perpetrators:several", "perpetrators:known")
    durations = [f"parents:both:duration:{c}" for c in codebook.BY_NAME["duration"].codes]
    adds_up(durations, "parents:both")
    adds_up(
        ["parents:both:duration:2_5", "parents:both:duration:5_plus"], "parents:both:duration:long"
    )
    # The four parent sets, by the regions of their Venn diagram.
    regions = [frozenset(group) for size in range(1, 5) for group in combinations(PARENTS, size)]
    name = {r: "region:" + ",".join(sorted(r)) for r in regions}
    adds_up([name[r] for r in regions], "parents:any")
    for parent in PARENTS:
        adds_up([name[r] for r in regions if parent in r], f"parents:{parent}")
        rows.append(({f"parents:{parent}": 1, f"perpetrators:{parent}": -1}, 0, 0))
    both = [
        name[r] for r in regions if r & {"father", "stepfather"} and r & {"mother", "stepmother"}
    ]
    adds_up(both, "parents:both")
    for question, codes in (
        ("exploitation", codebook.BY_NAME["exploitation"].codes),
        ("perpetrators", KINDS),
        ("referrals", codebook.BY_NAME["referrals"].codes),
    ):
        for code in codes:
            at_most(f"{question}:{code}", f"{question}:any")
        rows.append(({**{f"{question}:{c}": 1 for c in codes}, f"{question}:any": -1}, 0, np.inf))
        at_most(f"{question}:any", "victims")
    every = {n for expr, _l, _h in rows for n in expr} - {"victims"}
    for other in sorted(every):
        at_most(other, "victims")
    return rows


DEFINITIONS = definitions()


def pinned(
    published: Mapping[str, Any], truth: Mapping[str, int | None], threshold: int
) -> list[str]:
    """The withheld figures of one period (as the JSON gives them: ``victims`` and a
    ``figures`` map of key to the period's entry) that give a few away: their count, or
    the rest of their base, is from 1 to threshold - 1 and has only one possible value."""
    rows = list(DEFINITIONS)
    if published["victims"] is not None:
        rows.append(({"victims": 1}, published["victims"], published["victims"]))
    withheld: list[str] = []
    for key, entry in published["figures"].items():
        count, total, unknown = meaning(key)
        if entry["withheld"] == WITHHELD:
            withheld.append(key)
            continue
        rows.append(({count: 1}, entry["count"], entry["count"]))
        base = {total: 1}
        if entry["unknown_left_out"] is not None:
            assert unknown is not None
            base[unknown] = -1
            rows.append(({unknown: 1}, entry["unknown_left_out"], entry["unknown_left_out"]))
        if entry["unknown_kept_in_base"]:
            assert unknown is not None
            rows.append(({unknown: 1}, 1, np.inf))
        rows.append((base, entry["base"], entry["base"]))
    names = sorted({n for expr, _l, _h in rows for n in expr})
    index = {n: i for i, n in enumerate(names)}

    def vector(expr: Mapping[str, int]) -> np.ndarray:
        row = np.zeros(len(names))
        for n, c in expr.items():
            row[index[n]] += c
        return row

    matrix = np.array([vector(expr) for expr, _l, _h in rows])
    lows = np.array([low for _e, low, _h in rows], dtype=float)
    highs = np.array([high for _e, _l, high in rows], dtype=float)

    def possible(expr: Mapping[str, int], low: float, high: float) -> bool:
        result = milp(
            c=np.zeros(len(names)),
            constraints=LinearConstraint(
                np.vstack([matrix, vector(expr)]), np.append(lows, low), np.append(highs, high)
            ),
            integrality=np.ones(len(names)),
            bounds=Bounds(0, np.inf),
        )
        assert result.status in (0, 2), result.message
        return bool(result.status == 0)

    def true(expr: Mapping[str, int]) -> int:
        return sum(c * int(truth.get(n) or 0) for n, c in expr.items())

    found = []
    quantities: list[tuple[str, dict[str, int]]] = []
    if published["victims"] is None:
        quantities.append(("victims", {"victims": 1}))
    for key in withheld:
        count, total, _unknown = meaning(key)
        quantities.append((key, {count: 1}))
        quantities.append((f"{key} (rest)", {total: 1, count: -1} if count != total else {}))
    for label, expr in quantities:
        if not expr or any(n not in index for n in expr):
            continue  # nothing published ties it to anything: it is free
        value = true(expr)
        if not 0 < value < threshold:
            continue
        if not possible(expr, value + 1, np.inf) and not possible(expr, -np.inf, value - 1):
            found.append(f"{label} = {value}")
    return found


def periods_of(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The published figures of each period in a public report's JSON, by period label."""
    out: dict[str, dict[str, Any]] = {
        document["period"]["label"]: {"victims": document["victims"]["count"], "figures": {}}
    }
    for entry in document["victims"]["history"]:
        out[entry["period"]] = {"victims": entry["count"], "figures": {}}
    for section in document["sections"]:
        for figure in section["figures"]:
            out[document["period"]["label"]]["figures"][figure["key"]] = figure
            for earlier in figure["history"]:
                out[earlier["period"]]["figures"][figure["key"]] = earlier
    return out


def full_counts(cases: Sequence[Mapping[str, Any]]) -> dict[str, int | None]:
    counts = tally(cases)
    counts["perpetrators:not_known"] = int(counts["victims"] or 0) - int(
        counts["perpetrators:known"] or 0
    )
    counts["parents:both:duration:long"] = int(counts["parents:both:duration:2_5"] or 0) + int(
        counts["parents:both:duration:5_plus"] or 0
    )
    return counts


def public_report(
    current: Sequence[Mapping[str, Any]], earlier: Sequence[Mapping[str, Any]], threshold: int
) -> dict[str, Any]:
    this = Period("2022", dt.date(2022, 1, 1), dt.date(2023, 1, 1), tally(current))
    before = Period("2021", dt.date(2021, 1, 1), dt.date(2022, 1, 1), tally(earlier))
    report = build(this, [before], public=True, threshold=threshold)
    return render.as_dict(report)


# --- properties --------------------------------------------------------------------------------


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(current=case_files, earlier=case_files, threshold=st.sampled_from([3, 5, 10]))
def test_no_withheld_figure_can_be_worked_out_from_a_public_report(
    current: list[dict[str, Any]], earlier: list[dict[str, Any]], threshold: int
) -> None:
    """For any small case file (and the year before), an attacker with an integer programme
    over everything the public JSON gives, and every definition linking the counts, cannot
    pin a withheld figure's count or the rest of its base to one value other than 0."""
    document = public_report(current, earlier, threshold)
    truths = {"2022": full_counts(current), "2021": full_counts(earlier)}
    for label, published in periods_of(document).items():
        assert pinned(published, truths[label], threshold) == [], label


@settings(max_examples=40, deadline=None, derandomize=True)
@given(cases=case_files)
def test_the_product_identities_hold_on_every_case_file(cases: list[dict[str, Any]]) -> None:
    """The identities the audit reasons from hold for real counts (with the parent regions
    counted here), so the audit never reasons from something false."""
    counts: dict[str, int] = {
        k: int(v or 0) for k, v in figures.derived(tally(cases)).items() if k != "age:youngest"
    }
    for case in cases:
        region = frozenset(set(case["perpetrators"]) & set(PARENTS))
        if region:
            name = "parents:only:" + "+".join(sorted(region))
            counts[name] = counts.get(name, 0) + 1
    for constraint in figures.identities():
        total = sum(c * counts.get(n, 0) for n, c in constraint.expr.items())
        assert constraint.low is None or total >= constraint.low, constraint
        assert constraint.high is None or total <= constraint.high, constraint


# --- the cases of the issue, fixed ----------------------------------------------------------


def cases_with(n: int, **answers: Any) -> list[dict[str, Any]]:
    base: dict[str, Any] = {
        "contact_type": "self",
        "age": None,
        "age_band": "unknown",
        "gender": "girl",
        "first_disclosure": "yes",
        "still_exploited": "no",
        "sextortion": "no",
        "recruitment": "in_person",
        "platform": "",
        "urgency": "not_urgent",
        "duration": "unknown",
        "exploitation": ("sexual",),
        "perpetrators": ("partner",),
        "perpetrator_count": None,
        "referrals": (),
    }
    return [{**base, **answers} for _ in range(n)]


def one_year(cases: Sequence[Mapping[str, Any]], threshold: int = 10) -> dict[str, Any]:
    report = build(
        Period("2022", dt.date(2022, 1, 1), dt.date(2023, 1, 1), tally(cases)),
        public=True,
        threshold=threshold,
    )
    return render.as_dict(report)


def figure(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    for section in document["sections"]:
        for entry in section["figures"]:
            if entry["key"] == key:
                return dict(entry)
    raise KeyError(key)


def test_the_parent_sets_do_not_give_both_parents_away() -> None:
    """Father 21, mother 20, any (step)parent 36, no step-parents: "both" (5) would follow
    by inclusion and exclusion (21 + 20 - 36). It is withheld as a small count, and so is
    enough of the rest that it cannot be worked out any more."""
    cases = (
        cases_with(16, perpetrators=("father",))
        + cases_with(15, perpetrators=("mother",))
        + cases_with(5, perpetrators=("father", "mother"))
        + cases_with(30)
    )
    document = one_year(cases)
    assert figure(document, "parents:both")["withheld"] == WITHHELD
    assert pinned(periods_of(document)["2022"], full_counts(cases), 10) == []
    # Without the audit the sets alone would have given it back: all four shown.
    shown = [figure(document, f"parents:{p}")["count"] for p in ("father", "mother")]
    shown += [figure(document, "parents:any")["count"]]
    assert None in shown


def test_the_small_year_does_not_give_a_mother_away() -> None:
    """The issue's small year: any (step)parent 12, father 11, no step-parents, both 0:
    the one mother (12 - 11 + 0) must not follow."""
    cases = cases_with(11, perpetrators=("father",)) + cases_with(1, perpetrators=("mother",))
    cases += cases_with(28)
    document = one_year(cases)
    assert figure(document, "parents:mother")["withheld"] == WITHHELD
    assert pinned(periods_of(document)["2022"], full_counts(cases), 10) == []


def test_the_same_count_over_two_bases_does_not_give_the_rest_away() -> None:
    """11 fathers among 12 victims with a parent involved (the share is withheld: a rest
    of 1), and 40 victims in all: the father figure among the perpetrators (11 of 40) and
    the 12 would give the 1 back. One of them is withheld too."""
    cases = cases_with(11, perpetrators=("father",)) + cases_with(1, perpetrators=("stepmother",))
    cases += cases_with(28)
    document = one_year(cases)
    assert figure(document, "parents:father")["withheld"] == WITHHELD
    shown_elsewhere = figure(document, "perpetrators:father")["count"]
    parents_any = figure(document, "parents:any")["count"]
    assert shown_elsewhere is None or parents_any is None
    assert pinned(periods_of(document)["2022"], full_counts(cases), 10) == []


def test_two_hidden_cells_adding_up_to_threshold_plus_one_look_alike() -> None:
    """Urgency: 1 emergency and 10 urgent of 30 (the 10 hidden to protect the 1). Both are
    marked the same "withheld", so a reader cannot tell which is small, and each could be
    anything from 1 to 10."""
    cases = cases_with(1, urgency="emergency") + cases_with(10, urgency="urgent")
    cases += cases_with(19)
    document = one_year(cases)
    emergency, urgent = figure(document, "urgency:emergency"), figure(document, "urgency:urgent")
    assert emergency["withheld"] == urgent["withheld"] == WITHHELD
    assert {k: v for k, v in emergency.items() if k not in ("key", "label")} == {
        k: v for k, v in urgent.items() if k not in ("key", "label")
    }
    assert pinned(periods_of(document)["2022"], full_counts(cases), 10) == []


def test_a_year_with_fewer_victims_than_the_threshold_publishes_nothing_about_them() -> None:
    """Seven victims, all under 12: no number, no share, no age band; every figure is
    marked "withheld", not even a zero over a zero base."""
    cases = cases_with(7, age=10, age_band="under_12", perpetrators=("father", "mother"))
    document = one_year(cases)
    assert document["victims"]["count"] is None
    assert document["age_extremes"]["youngest_band"] is None
    assert document["age_extremes"]["oldest_band"] is None
    entries = [f for section in document["sections"] for f in section["figures"]]
    assert {f["withheld"] for f in entries} == {WITHHELD}
    assert {f["count"] for f in entries} == {f["base"] for f in entries} == {None}


# --- the audit module on its own ----------------------------------------------------------------


def test_a_subtraction_is_seen() -> None:
    """x + y = 5 with y shown as 4: x is 1, exposed; with y hidden too, neither is."""
    line = audit.Constraint.equal({"x": 1, "y": 1, "t": -1})
    shown = [line, audit.Constraint.equal({"t": 1}, 5), audit.Constraint.equal({"y": 1}, 4)]
    x = audit.Protected("x", {"x": 1}, 1)
    assert audit.exposed(shown, [], [x], big=100) == [x]
    hidden = [line, audit.Constraint.equal({"t": 1}, 5)]
    assert audit.exposed(hidden, [], [x], big=100) == []


def test_zero_is_never_exposed() -> None:
    """A quantity pinned at 0 describes nobody."""
    zero = audit.Protected("x", {"x": 1}, 0)
    assert audit.exposed([audit.Constraint.equal({"x": 1}, 0)], [], [zero], big=100) == []


def test_either_tells_a_withheld_count_is_at_least_one() -> None:
    """x + y = 2, both withheld over a base of 20: each is at least 1, so each is 1.
    With a base below the threshold a zero is possible, and nothing is exposed."""
    rows = [audit.Constraint.equal({"x": 1, "y": 1}, 2), audit.Constraint.equal({"b": 1}, 20)]
    either = [audit.Either({v: 1}, 1, {"b": 1}, 9) for v in ("x", "y")]
    quantities = [audit.Protected(v, {v: 1}, 1) for v in ("x", "y")]
    assert audit.exposed(rows, either, quantities, big=100) == quantities
    rows[1] = audit.Constraint.equal({"b": 1}, 8)
    assert audit.exposed(rows, either, quantities, big=100) == []


def test_big_must_stay_small_enough_for_the_solver() -> None:
    """A big of a million would let a binary's tolerance move a bound by a whole count."""
    x = audit.Protected("x", {"x": 1}, 1)
    with pytest.raises(ValueError):
        audit.exposed([], [], [x], big=1_000_000)


def test_when_nothing_else_helps_the_whole_period_is_withheld(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the audit still finds something exposed once every figure is withheld, the
    number of victims goes too: nothing is published with a warning."""
    calls: list[int] = []

    def always_exposed(known, either, guarded, *, big):  # type: ignore[no-untyped-def]
        calls.append(len(guarded))
        return [audit.Protected("x", {"victims": 1}, 1)]

    monkeypatch.setattr(audit, "exposed", always_exposed)
    cases = cases_with(40, urgency="urgent")
    report = build(
        Period("2022", dt.date(2022, 1, 1), dt.date(2023, 1, 1), tally(cases)),
        public=True,
        threshold=10,
    )
    assert report.victims.current is None
    values = [f.current for s in report.sections for f in s.figures]
    assert {v.withheld for v in values} == {WITHHELD}
    assert len(calls) > 1  # figures were withheld one by one first


def test_the_audit_withholds_what_the_tables_alone_would_show() -> None:
    """In the parents' case the figures hidden beyond the tables' own rules say so inside
    (``reason == "audit"``), and are marked like every other withheld figure outside."""
    cases = (
        cases_with(16, perpetrators=("father",))
        + cases_with(15, perpetrators=("mother",))
        + cases_with(5, perpetrators=("father", "mother"))
        + cases_with(30)
    )
    report = build(
        Period("2022", dt.date(2022, 1, 1), dt.date(2023, 1, 1), tally(cases)),
        public=True,
        threshold=10,
    )
    audited = [f for s in report.sections for f in s.figures if f.current.reason == "audit"]
    assert audited
    assert {f.current.withheld for f in audited} == {WITHHELD}


def test_an_age_band_that_would_pin_a_few_is_dropped_not_the_whole_year() -> None:
    """Eleven victims: ten aged 10 and one aged 30. "The youngest is under 12" (a band of
    ten) says at least ten are minors, which with the eleven pins the one adult. The band
    goes; the number of victims and the other figures stay."""
    cases = cases_with(10, age=10, age_band="under_12") + cases_with(1, age=30, age_band="25_34")
    document = one_year(cases)
    assert document["victims"]["count"] == 11
    assert document["age_extremes"]["youngest_band"] is None
    shown = [f for s in document["sections"] for f in s["figures"] if f["withheld"] is None]
    assert len(shown) > 20
    assert pinned(periods_of(document)["2022"], full_counts(cases), 10) == []
