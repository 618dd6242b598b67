"""The report's figures (haven/reports/figures.py) on the hand-built cases of
test_selectors.py: every share with its base, its Wilson interval (checked against an
interval computed here another way), its phrase, the years before and the change; then
disclosure control at the level of the whole report, on those cases and on counts chosen
to hit the edge cases (a hidden count that a total or a base would give away).

The counts of 2020 are worked out in test_selectors.py (EXPECTED_2020); the shares below
are worked out from them in the comments.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from typing import Any

import pytest

from haven.cases import codebook
from haven.reports import figures, render
from haven.reports.figures import Period, Report, Value, build, trend_series
from haven.reports.selectors import count_expressions, yearly_report
from haven.reports.tests.test_selectors import YEAR_2020, build_cases

Z = 1.959963984540054  # the 97.5% point of the standard normal distribution


# --- independent arithmetic ----------------------------------------------------------------


def wilson_by_bisection(count: int, base: int) -> tuple[float, float]:
    """The Wilson interval by its definition, not its closed form: the proportions p that
    the score test does not reject, (count/base - p)^2 <= Z^2 p (1 - p) / base. Each end is
    found by bisection between the observed share and 0 (or 1)."""
    observed = count / base

    def rejected(p: float) -> bool:
        return (observed - p) ** 2 > Z * Z * p * (1 - p) / base

    def crossing(outside: float, inside: float) -> float:
        for _ in range(200):
            middle = (outside + inside) / 2
            if rejected(middle):
                outside = middle
            else:
                inside = middle
        return inside

    low = 0.0 if count == 0 else crossing(0.0, observed)
    high = 1.0 if count == base else crossing(1.0, observed)
    return low, high


@pytest.mark.parametrize(
    ("count", "base", "low", "high"),
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I,
    # method 3 (score interval without continuity correction).
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611)],
)
def test_the_bisection_reproduces_newcombes_table(
    count: int, base: int, low: float, high: float
) -> None:
    """The check used below is itself checked against published values."""
    got = wilson_by_bisection(count, base)
    assert got == pytest.approx((low, high), abs=5e-5)


def chi_squared_p(a: int, n1: int, b: int, n2: int) -> float:
    """Pearson's chi-squared test (no continuity correction) of the 2x2 table
    [[a, n1 - a], [b, n2 - b]]: the same test as the pooled two-proportion z test."""
    c, d = n1 - a, n2 - b
    total = n1 + n2
    chi2 = total * (a * d - c * b) ** 2 / (n1 * n2 * (a + b) * (c + d))
    return math.erfc(math.sqrt(chi2 / 2))


def newcombe_by_bisection(a: int, n1: int, b: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval for a/n1 - b/n2, from the bisected Wilson ends."""
    p1, p2 = a / n1, b / n2
    l1, u1 = wilson_by_bisection(a, n1)
    l2, u2 = wilson_by_bisection(b, n2)
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def exact_binomial_p(x: int, n: int, p: float) -> float:
    """Two-sided exact binomial test by enumerating every outcome (as R's binom.test)."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    return min(1.0, sum(q for q in pmf if q <= pmf[x] * (1 + 1e-7)))


# --- the report of 2020 on the hand-built cases ------------------------------------------


@pytest.fixture
def internal(db: None) -> Report:
    build_cases()
    return yearly_report(start=YEAR_2020[0], end=YEAR_2020[1], public=False, threshold=10)


# key -> (count, base, Dutch phrase, English phrase), worked out from EXPECTED_2020.
SHARES_2020: dict[str, tuple[int, int, str, str]] = {
    # 16 and 4 of 20 victims.
    "contact:self": (16, 20, "acht op de tien", "eight in ten"),
    "contact:about_victim": (4, 20, "een op de vijf", "one in five"),
    # 15 minors, 4 adults, 1 age unknown, of 20; 3 of the 15 minors 15 or younger.
    "age:minor": (15, 20, "drie kwart", "three quarters"),
    "age:adult": (4, 20, "een op de vijf", "one in five"),
    "age:unknown": (1, 20, "een op de twintig", "one in twenty"),
    "age:up_to_15": (3, 15, "een op de vijf", "one in five"),
    # Gender known for 20 - 2 = 18. 14/18 = 0.778: nearest named fraction 8/10 (0.022 off,
    # more than the 0.01 of "about", less than the 0.05 of "almost"); 3/18 = 1/6; 1/18.
    "gender:girl": (14, 18, "bijna acht op de tien", "almost eight in ten"),
    "gender:boy": (3, 18, "een op de zes", "one in six"),
    "gender:non_binary": (1, 18, "een op de achttien", "one in eighteen"),
    # First disclosure known for 18: 12/18 = 2/3. Still exploited known for 15: 5/15 = 1/3.
    # Sextortion known for all 20: 5/20.
    "first_disclosure:yes": (12, 18, "twee derde", "two thirds"),
    "still_exploited:yes": (5, 15, "een derde", "a third"),
    "sextortion:yes": (5, 20, "een kwart", "a quarter"),
    # Parents: 4 of 20; of those 4: father 2, mother 3, stepfather 1, stepmother 0, both 2;
    # of the 2 with both and a known duration, 1 for two years or more.
    "parents:any": (4, 20, "een op de vijf", "one in five"),
    "parents:father": (2, 4, "de helft", "half"),
    "parents:mother": (3, 4, "drie kwart", "three quarters"),
    "parents:stepfather": (1, 4, "een kwart", "a quarter"),
    "parents:stepmother": (0, 4, "geen", "none"),
    "parents:both": (2, 4, "de helft", "half"),
    "parents:both:long": (1, 2, "de helft", "half"),
    # More than one perpetrator: 5 of the 16 whose perpetrators are known = 0.3125, nearest
    # 3/10 and 0.0125 above it: "ruim" (more than "about", within "near").
    "perpetrators:several": (5, 16, "ruim drie op de tien", "more than three in ten"),
    # Partner: 3/20 = 0.15, nearest 1/7 = 0.1429 and within 0.01 of it.
    "perpetrators:partner": (3, 20, "ongeveer een op de zeven", "about one in seven"),
    "perpetrators:father": (2, 20, "een op de tien", "one in ten"),
    "exploitation:sexual": (18, 20, "negen op de tien", "nine in ten"),
    "exploitation:labour": (1, 20, "een op de twintig", "one in twenty"),
    "exploitation:criminal": (3, 20, "ongeveer een op de zeven", "about one in seven"),
    "exploitation:other": (0, 20, "geen", "none"),
    # Recruitment known for 18: social media 8/18 = 0.444 (4/10 + 0.044: "ruim"), family
    # 4/18 = 0.222 (1/5 + 0.022), in person 5/18 = 0.278 (3/10 - 0.022: "bijna"), other 1/18.
    "recruitment:social_media": (8, 18, "ruim vier op de tien", "more than four in ten"),
    "recruitment:family": (4, 18, "ruim een op de vijf", "more than one in five"),
    "recruitment:in_person": (5, 18, "bijna drie op de tien", "almost three in ten"),
    "recruitment:other": (1, 18, "een op de achttien", "one in eighteen"),
    # Platform known for 8 - 2 = 6 of those recruited through social media.
    "platform:instagram": (3, 6, "de helft", "half"),
    "platform:snapchat": (2, 6, "een derde", "a third"),
    "platform:tiktok": (1, 6, "een op de zes", "one in six"),
    "platform:facebook": (0, 6, "geen", "none"),
    "urgency:emergency": (2, 20, "een op de tien", "one in ten"),
    "urgency:urgent": (6, 20, "drie op de tien", "three in ten"),
    "urgency:not_urgent": (12, 20, "zes op de tien", "six in ten"),
    "referrals:any": (10, 20, "de helft", "half"),
    "referrals:police": (4, 20, "een op de vijf", "one in five"),
    "referrals:sexual_violence_centre": (5, 20, "een kwart", "a quarter"),
    "referrals:child_protection": (6, 20, "drie op de tien", "three in ten"),
    "referrals:shelter_care": (2, 20, "een op de tien", "one in ten"),
    "referrals:other": (0, 20, "geen", "none"),
}


def test_every_share_has_its_count_base_percent_and_phrase(internal: Report) -> None:
    got = {}
    for key in SHARES_2020:
        figure = internal.figure(key)
        got[key] = (
            figure.current.count,
            figure.current.base,
            figure.phrase_nl,
            figure.phrase_en,
        )
        assert figure.current.percent == pytest.approx(
            100 * figure.current.count / figure.current.base  # type: ignore[operator]
        )
        assert figure.current.withheld is None
    assert got == SHARES_2020


def test_every_interval_is_the_wilson_interval(internal: Report) -> None:
    """For every figure of every section and year: the interval the report gives is the
    one the bisection finds, in percent."""
    checked = 0
    for section in internal.sections:
        for figure in section.figures:
            for value in [figure.current, *figure.history]:
                if value.base:
                    assert value.count is not None
                    low, high = wilson_by_bisection(value.count, value.base)
                    assert (value.low, value.high) == pytest.approx(
                        (100 * low, 100 * high), abs=1e-7
                    ), (figure.key, value.label)
                    checked += 1
    assert checked > 100
    # Two by hand: 12 of 18 is 43.7 to 83.7 percent; 0 of 6 is 0 to 39.0 percent.
    first = internal.figure("first_disclosure:yes").current
    assert (round(first.low, 1), round(first.high, 1)) == (43.7, 83.7)  # type: ignore[arg-type]
    facebook = internal.figure("platform:facebook").current
    assert (facebook.low, round(facebook.high, 1)) == (0.0, 39.0)  # type: ignore[arg-type]


def test_the_victims_and_the_ages(internal: Report) -> None:
    """20 victims; the youngest 9 and the oldest 50, exact in the internal report, with
    their bands."""
    assert internal.victims.current == 20
    assert (internal.youngest, internal.oldest) == (9, 50)
    assert (internal.youngest_band, internal.oldest_band) == ("under_12", "35_plus")


def test_bases_say_what_was_left_out(internal: Report) -> None:
    """A share over the known answers says how many unknowns were left out (0 included);
    the others name their base."""
    gender = internal.figure("gender:girl")
    assert gender.current.unknown_left_out == 2 and not gender.current.unknown_kept
    assert gender.base_label % {"base": 18, "unknown": 2} == (
        "of 18 victims whose answer is known (2 unknown left out)"
    )
    assert internal.figure("still_exploited:yes").current.unknown_left_out == 5
    assert internal.figure("sextortion:yes").current.unknown_left_out == 0
    assert internal.figure("perpetrators:several").current.unknown_left_out == 4
    assert internal.figure("platform:instagram").current.unknown_left_out == 2
    assert internal.figure("parents:both:long").current.unknown_left_out == 0
    assert internal.figure("parents:father").base_label == (
        "of %(base)s victims with a (step)parent involved"
    )
    assert internal.figure("age:up_to_15").base_label == "of %(base)s minors"
    assert internal.figure("referrals:any").current.unknown_left_out is None


def test_the_json_words_the_bases_in_both_languages(internal: Report) -> None:
    data = render.as_dict(internal)
    girl = next(f for s in data["sections"] for f in s["figures"] if f["key"] == "gender:girl")
    assert girl["base_label"]["en"] == "of 18 victims whose answer is known (2 unknown left out)"
    assert "18" in girl["base_label"]["nl"] and "2" in girl["base_label"]["nl"]
    assert girl["phrase"] == {"nl": "bijna acht op de tien", "en": "almost eight in ten"}
    assert girl["count"] == 14 and girl["base"] == 18 and girl["percent"] == 77.78


# --- the years before, and the change ------------------------------------------------------


def test_earlier_years_stand_beside_and_empty_years_are_left_out(internal: Report) -> None:
    """History 3 asks for 2019, 2018 and 2017; 2017 had no victim and is left out."""
    assert internal.history_labels == ["2019", "2018"]
    assert internal.victims.history == [("2019", 10), ("2018", 3)]
    parents = internal.figure("parents:any")
    # 2019: victim 0 of 2020 (father and mother) among 10; 2018: none of 3.
    assert [(v.label, v.count, v.base) for v in parents.history] == [
        ("2019", 1, 10),
        ("2018", 0, 3),
    ]
    assert trend_series(internal, ["parents:any"]) == (
        ["2018", "2019", "2020"],
        [[0.0, 10.0, 20.0]],
    )


@pytest.mark.parametrize(
    ("key", "now", "before", "significant"),
    [
        # 12 of 18 against 1 of 10 (victim 0 only): chi-squared 8.30, p = 0.004.
        ("first_disclosure:yes", (12, 18), (1, 10), True),
        # 5 of 20 against 1 of 10: chi-squared 0.94, p = 0.33.
        ("sextortion:yes", (5, 20), (1, 10), False),
        # 4 of 20 against 1 of 10.
        ("parents:any", (4, 20), (1, 10), False),
        # 16 of 20 against all 10 of 2019 telling about themselves.
        ("contact:self", (16, 20), (10, 10), False),
    ],
)
def test_the_change_against_the_year_before(
    internal: Report,
    key: str,
    now: tuple[int, int],
    before: tuple[int, int],
    significant: bool,
) -> None:
    """The difference in percentage points, its Newcombe interval, and the p-value of the
    test against chance, each computed here independently."""
    figure = internal.figure(key)
    change = figure.change
    assert change is not None
    assert (figure.history[0].count, figure.history[0].base) == before
    (a, n1), (b, n2) = now, before
    assert change["against"] == "2019"
    assert change["points"] == pytest.approx(100 * (a / n1 - b / n2))
    low, high = newcombe_by_bisection(a, n1, b, n2)
    assert (change["low"], change["high"]) == pytest.approx((100 * low, 100 * high), abs=1e-6)
    assert change["p_value"] == pytest.approx(chi_squared_p(a, n1, b, n2), rel=1e-9)
    assert change["significant"] is significant


def test_the_number_of_victims_against_the_year_before(internal: Report) -> None:
    """20 victims in 2020 (366 days) against 10 in 2019 (365 days): given 30 in all, the
    number in 2020 is binomial with p = 366 / 731 if the rate did not change. The exact
    two-sided p-value of 20 is 0.099: twice as many is not yet more than chance gives."""
    change = internal.victims.change
    assert change is not None
    assert change["difference"] == 10
    assert change["ratio"] == pytest.approx((20 / 366) / (10 / 365))
    p = exact_binomial_p(20, 30, 366 / 731)
    assert change["p_value"] == pytest.approx(p, rel=1e-6)
    assert round(p, 3) == 0.099
    assert change["significant"] is False


# --- disclosure control on the hand-built year ---------------------------------------------


@pytest.fixture
def public(db: None) -> Report:
    """The public report with the threshold at 5: counts from 1 to 4 are small."""
    build_cases()
    return yearly_report(start=YEAR_2020[0], end=YEAR_2020[1], public=True, threshold=5)


def shown(report: Report, key: str) -> tuple[int | None, int | None, str | None]:
    value = report.figure(key).current
    return value.count, value.base, value.reason


def test_small_counts_are_hidden_and_zeros_shown(public: Report) -> None:
    # 3 boys, 1 labour, 4 with parents: small, so not given (neither count nor base).
    assert shown(public, "gender:boy") == (None, None, "small_count")
    assert shown(public, "exploitation:labour") == (None, None, "small_count")
    assert shown(public, "parents:any") == (None, None, "small_count")
    # 0 is about nobody: shown, with its base.
    assert shown(public, "referrals:other") == (0, 20, None)
    assert shown(public, "exploitation:other") == (0, 20, None)
    # Large enough, with a large enough rest: shown exactly, with interval and phrase.
    assert shown(public, "referrals:any") == (10, 20, None)
    assert public.figure("referrals:any").phrase_en == "half"


def test_a_count_that_the_total_would_give_away_is_hidden_too(public: Report) -> None:
    """Urgency: 2 emergencies (small), 6 urgent, 12 not urgent, of 20 victims. With the 2
    hidden alone, 20 - 6 - 12 would give it back; so the smallest other count (6 urgent)
    is hidden as well, although 6 is above the threshold."""
    assert shown(public, "urgency:emergency") == (None, None, "small_count")
    assert shown(public, "urgency:urgent") == (None, None, "suppressed")
    assert shown(public, "urgency:not_urgent") == (12, 20, None)
    # Likewise 4 reported by someone else hides the 16 who told about themselves (whose
    # rest of 4 is small too).
    assert shown(public, "contact:about_victim") == (None, None, "small_count")
    assert shown(public, "contact:self") == (None, None, "small_rest")


def test_shares_over_small_bases_are_withheld(public: Report) -> None:
    """Of the 4 with a parent involved: base below 5, so no share at all, not even 0 of 4;
    both parents with a known duration: 2."""
    for key in ("parents:father", "parents:mother", "parents:stepmother", "parents:both:long"):
        assert shown(public, key) == (None, None, "small_base"), key


def test_a_small_rest_withholds_the_share(public: Report) -> None:
    """18 of 20 sexually exploited would give away the 2 who were not."""
    assert shown(public, "exploitation:sexual") == (None, None, "small_rest")


def test_small_unknowns_stay_in_the_base_and_the_base_says_so(public: Report) -> None:
    """2 unknown genders are too few to give: they stay in the base (20, not 18), and the
    base says unknown answers are included. 5 unknown (still exploited) may be given."""
    girl = public.figure("gender:girl")
    assert (girl.current.count, girl.current.base) == (14, 20)
    assert girl.current.unknown_kept and girl.current.unknown_left_out is None
    assert girl.base_label == "of %(base)s victims (unknown answers included)"
    still = public.figure("still_exploited:yes").current
    assert (still.count, still.base, still.unknown_left_out) == (5, 15, 5)
    # 4 whose perpetrators are not known: kept, so 5 of 20 (not of 16).
    several = public.figure("perpetrators:several").current
    assert (several.count, several.base, several.unknown_kept) == (5, 20, True)
    # 2 platforms unknown of 8: kept, so Facebook is 0 of 8.
    facebook = public.figure("platform:facebook")
    assert (facebook.current.count, facebook.current.base) == (0, 8)
    assert "unknown platform included" in facebook.base_label


def test_ages_are_bands_in_public_and_the_rules_are_listed(
    public: Report, internal: Report
) -> None:
    assert (public.youngest, public.oldest) == (None, None)
    # The youngest (9) and oldest (50) are alone in their bands here: not even the band.
    assert (public.youngest_band, public.oldest_band) == (None, None)
    assert (internal.youngest_band, internal.oldest_band) == ("under_12", "35_plus")
    assert [rule.code for rule in public.rules] == [
        "primary",
        "zero",
        "secondary",
        "share",
        "extremes",
    ]
    assert "Counts from 1 to 4 are not shown." in [rule.en for rule in public.rules]
    assert public.public and not public.confidential and public.threshold == 5
    assert internal.confidential and internal.rules == [] and internal.threshold is None


def test_the_public_victims_count_of_a_small_year_is_hidden(public: Report) -> None:
    """2018 had 3 victims: its number is not given, and its shares are withheld."""
    assert public.victims.history == [("2019", 10), ("2018", None)]
    assert all(v.withheld for f in public.sections[0].figures for v in f.history[1:])


def small_numbers(data: Any, threshold: int, path: str = "") -> list[str]:
    """Every whole number from 1 to threshold - 1 in the JSON, by path, except fields that
    are no count of people (the format version, the threshold itself)."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key not in ("version", "threshold"):
                found += small_numbers(value, threshold, f"{path}/{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += small_numbers(value, threshold, f"{path}[{index}]")
    elif isinstance(data, int) and not isinstance(data, bool) and 0 < data < threshold:
        found.append(f"{path}={data}")
    return found


def test_the_public_json_holds_no_small_count(public: Report, internal: Report) -> None:
    """Scan the whole public JSON: no number from 1 to 4 anywhere (0 is allowed). The
    internal JSON of the same year does hold them (so the scan can find them)."""
    assert small_numbers(json.loads(render.to_json(public)), 5) == []
    assert small_numbers(json.loads(render.to_json(internal)), 5) != []
    data = render.as_dict(public)
    assert data["classification"] == "public"
    assert data["disclosure_control"]["threshold"] == 5
    assert len(data["disclosure_control"]["rules"]) == 5
    assert data["age_extremes"]["youngest"] is None
    assert data["age_extremes"]["youngest_band"] is None
    confidential = render.as_dict(internal)
    assert confidential["classification"] == "confidential"
    assert confidential["disclosure_control"] is None
    assert confidential["age_extremes"]["youngest"] == 9


# --- disclosure control on counts chosen for the edge cases --------------------------------


def counts(victims: int, **given: int) -> dict[str, int | None]:
    """A full set of counts for one period: ``victims`` of whom every answer is unknown
    (or the default), with ``given`` counts on top. The caller keeps the tables adding up."""
    values: dict[str, int | None] = dict.fromkeys(count_expressions(), 0)
    values.update(
        {
            "victims": victims,
            "contact_type:self": victims,
            "age_band:unknown": victims,
            "gender:unknown": victims,
            "recruitment:unknown": victims,
            "urgency:not_urgent": victims,
            "first_disclosure:unknown": victims,
            "still_exploited:unknown": victims,
            "sextortion:unknown": victims,
            "age:youngest": None,
            "age:oldest": None,
        }
    )
    values.update(given)
    # Keep the identities the audit reasons from (figures.identities) where the caller
    # gave only one side of them: a parent is a perpetrator too, a yes/no question's
    # unknowns are the rest, "any" is at least each answer.
    for code in codebook.PARENT_CODES:
        if f"perpetrators:{code}" not in given:
            values[f"perpetrators:{code}"] = values[f"parents:{code}"]
    for question in ("first_disclosure", "still_exploited", "sextortion"):
        if f"{question}:unknown" not in given:
            answered = int(values[f"{question}:yes"] or 0) + int(values[f"{question}:no"] or 0)
            values[f"{question}:unknown"] = victims - answered
    for question in ("exploitation", "perpetrators", "referrals"):
        if f"{question}:any" not in given:
            codes = [c for c in codebook.BY_NAME[question].codes if c != "unknown"]
            values[f"{question}:any"] = max(int(values[f"{question}:{c}"] or 0) for c in codes)
    if "perpetrators:known" not in given:
        values["perpetrators:known"] = max(
            int(values["perpetrators:any"] or 0), int(values["perpetrators:several"] or 0)
        )
    return values


def report_of(values: dict[str, int | None], threshold: int = 10) -> Report:
    period = Period("2022", dt.date(2022, 1, 1), dt.date(2023, 1, 1), values)
    return build(period, public=True, threshold=threshold)


def published(value: Value) -> tuple[int | None, int | None, int | None]:
    return value.count, value.base, value.unknown_left_out


def test_the_extremes_band_is_given_only_where_it_holds_enough_victims() -> None:
    """The youngest told age, 13, is in the 12-15 band with 12 victims: the band is given.
    The oldest, 40, is in the 35+ band with 3: not given."""
    values = counts(
        40,
        **{
            "age_band:12_15": 12,
            "age_band:35_plus": 3,
            "age_band:18_24": 25,
            "age_band:unknown": 0,
            "age:minor": 12,
            "age:adult": 28,
            "age:up_to_15": 12,
            "age:told": 40,
            "age:youngest": 13,
            "age:oldest": 40,
        },
    )
    report = report_of(values)
    assert (report.youngest, report.youngest_band) == (None, "12_15")
    assert (report.oldest, report.oldest_band) == (None, None)


def test_every_withheld_value_is_marked_alike_in_every_format(public: Report) -> None:
    """A reader must not learn why a value is withheld (a small count, a small rest, a
    complement): the JSON and CSV say "withheld" for each (or "no_data" for a base of 0),
    and the web page and PDF the same words for each."""
    data = render.as_dict(public)
    markers = {
        value["withheld"]
        for section in data["sections"]
        for figure in section["figures"]
        for value in [figure, *figure["history"]]
        if value["withheld"]
    }
    assert markers <= {"withheld", "no_data"} and "withheld" in markers
    rows = list(csv.reader(io.StringIO(render.to_csv(public))))
    column = rows[0].index("withheld")
    assert {row[column] for row in rows[1:] if len(row) > column} <= {"", "withheld", "no_data"}
    reasons = {
        value.reason
        for section in public.sections
        for figure in section.figures
        for value in [figure.current, *figure.history]
    }
    assert {"small_count", "small_rest"} <= reasons  # there were different reasons


def test_a_year_with_fewer_victims_than_the_threshold_publishes_no_figure() -> None:
    """7 victims: the number is withheld, every figure too (not "0 of 0" for the parents,
    which beside the rest describes the few), and no age band of the youngest or oldest."""
    values = counts(
        7, **{"gender:girl": 7, "gender:unknown": 0, "age:youngest": 9, "age:oldest": 16}
    )
    report = report_of(values)
    assert report.victims.current is None
    for section in report.sections:
        for figure in section.figures:
            value = figure.current
            assert (value.count, value.base, value.withheld) == (None, None, "withheld"), figure.key
    assert (report.youngest_band, report.oldest_band) == (None, None)


def test_hidden_unknowns_are_not_given_away_by_the_base() -> None:
    """290 victims: 254 girls, 23 boys, 2 non-binary (small), 11 unknown. The 2 are hidden,
    and so (secondary) are the 11 unknown, the smallest other count. Were the 11 still left
    out of the base and said, 290 - 11 - 254 - 23 would give back the 2: so they stay in
    the base, and the shares are of 290."""
    values = counts(
        290,
        **{"gender:girl": 254, "gender:boy": 23, "gender:non_binary": 2, "gender:unknown": 11},
    )
    report = report_of(values)
    assert published(report.figure("gender:girl").current) == (254, 290, None)
    assert published(report.figure("gender:boy").current) == (23, 290, None)
    assert report.figure("gender:non_binary").current.reason == "small_count"
    # What is published leaves 13 for non-binary and unknown together: neither is known.
    assert 290 - 254 - 23 == 13
    # The internal report leaves the 11 out, exactly.
    internal = build(Period("2022", dt.date(2022, 1, 1), dt.date(2023, 1, 1), values))
    assert published(internal.figure("gender:girl").current) == (254, 279, 11)


def test_a_small_unknown_platform_is_not_given_away_by_the_base() -> None:
    """50 recruited through social media: 47 on Instagram, 3 platform unknown. A base of
    47 beside the 50 would give the 3 away; so the base is 50, and 47 of 50 is withheld
    for its small rest. Zeros stay: 0 of 50 on TikTok."""
    values = counts(
        100,
        **{
            "recruitment:unknown": 50,
            "recruitment:social_media": 50,
            "platform:instagram": 47,
            "platform:unknown": 3,
        },
    )
    report = report_of(values)
    # (The 50 whose route is unknown are left out: 50 of 50 through social media.)
    assert published(report.figure("recruitment:social_media").current) == (50, 50, 50)
    assert report.figure("platform:instagram").current.reason == "small_rest"
    tiktok = report.figure("platform:tiktok")
    assert published(tiktok.current) == (0, 50, None)
    assert tiktok.current.unknown_kept


def test_platforms_are_withheld_when_their_total_is_hidden() -> None:
    """Recruited in person 3 (small), social media 12, family 50, other 40, unknown 20:
    the 12 is hidden so that the 3 cannot be worked out from the 125. The platforms of
    those 12 would add up to it again, so every platform share is withheld, zeros too."""
    values = counts(
        125,
        **{
            "recruitment:in_person": 3,
            "recruitment:social_media": 12,
            "recruitment:family": 50,
            "recruitment:other": 40,
            "recruitment:unknown": 20,
            "platform:instagram": 12,
        },
    )
    report = report_of(values)
    assert report.figure("recruitment:in_person").current.reason == "small_count"
    assert report.figure("recruitment:social_media").current.reason == "suppressed"
    for section in report.sections:
        for figure in section.figures:
            if figure.key.startswith("platform:"):
                assert published(figure.current) == (None, None, None), figure.key


def test_a_small_unknown_duration_is_not_given_away_by_the_base() -> None:
    """40 victims with both parents involved, 3 of them with the duration unknown: the base
    stays 40 (not 37, which beside the 40 would give away the 3)."""
    values = counts(
        200,
        **{
            "parents:any": 60,
            "parents:father": 50,
            "parents:mother": 50,
            "parents:both": 40,
            "parents:both:duration:2_5": 25,
            "parents:both:duration:1_2": 12,
            "parents:both:duration:unknown": 3,
        },
    )
    long = report_of(values).figure("parents:both:long")
    assert published(long.current) == (25, 40, None)
    assert "unknown duration included" in long.base_label
    internal = build(Period("2022", dt.date(2022, 1, 1), dt.date(2023, 1, 1), values))
    assert published(internal.figure("parents:both:long").current) == (25, 37, 3)


def test_a_small_number_of_unknown_perpetrators_stays_in_the_base() -> None:
    """100 victims, perpetrators known for 97: a base of 97 would give away the 3."""
    values = counts(100, **{"perpetrators:known": 97, "perpetrators:several": 40})
    several = report_of(values).figure("perpetrators:several")
    assert published(several.current) == (40, 100, None)


def test_a_threshold_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        report_of(counts(100), threshold=1)


def test_a_year_without_victims_has_no_shares() -> None:
    """No victim: every share says "no data" and gives no phrase; nothing breaks."""
    report = report_of(counts(0))
    figure = report.figure("gender:girl")
    assert figure.current.withheld == "no_data" and figure.phrase_en is None
    assert figure.current.unknown_left_out == 0
    assert report.victims.current == 0
    assert render.as_dict(report)["format"] == figures.REPORT_FORMAT
