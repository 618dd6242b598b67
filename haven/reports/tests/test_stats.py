"""Shares, intervals and year-against-year change, checked against published values and
against independent computations written out here (not the module's own code paths).

References: Newcombe RG (1998a), "Two-sided confidence intervals for the single
proportion", Stat Med 17:857-872, table I (method 3, Wilson); Newcombe RG (1998b),
"Interval estimation for the difference between independent proportions", Stat Med
17:873-890, table II (method 10); R's ``poisson.test`` example for two rates.
"""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.reports.stats import (
    ALPHA,
    Share,
    binomial_test,
    clopper_pearson,
    compare,
    compare_counts,
    wilson,
)

Z = 1.959963984540054  # the 97.5% normal quantile


def approx(value: float, digits: int = 4) -> pytest.approx:  # type: ignore[valid-type]
    return pytest.approx(value, abs=0.5 * 10**-digits)


# --- Share -----------------------------------------------------------------------------


def test_a_share_is_its_count_over_its_base() -> None:
    share = Share(28, 196)
    assert share.value == pytest.approx(1 / 7)
    assert share.percent == pytest.approx(100 / 7)
    assert share.interval() == wilson(28, 196)


def test_a_share_over_nobody_has_no_value_and_no_interval() -> None:
    share = Share(0, 0)
    assert share.value is None
    assert share.percent is None
    assert share.interval() is None


@pytest.mark.parametrize(("count", "base"), [(-1, 5), (6, 5), (1, -1), (1.0, 5), (True, 5)])
def test_a_share_refuses_nonsense(count: int, base: int) -> None:
    """A negative count, a count above its base or a non-integer is a bug upstream."""
    with pytest.raises(ValueError):
        Share(count, base)


# --- Wilson ----------------------------------------------------------------------------


def test_wilson_for_28_of_196_worked_by_hand() -> None:
    """z² = 3.841459; n + z² = 199.841459; centre (28 + 1.920729) / 199.841459 = 0.149723;
    half width 1.959964 · sqrt(28·168/196 + 0.960365) / 199.841459
    = 1.959964 · 4.996035 / 199.841459 = 0.048999; so 0.100724 to 0.198722."""
    low, high = wilson(28, 196)
    assert low == approx(0.100724, 5)
    assert high == approx(0.198722, 5)


def test_wilson_at_zero_starts_exactly_at_zero() -> None:
    """0 of 10: low 0 exactly, high z² / (10 + z²) = 3.841459 / 13.841459 = 0.277533."""
    low, high = wilson(0, 10)
    assert low == 0.0
    assert high == approx(Z**2 / (10 + Z**2), 9)
    assert high == approx(0.277533, 5)


def test_wilson_at_the_base_ends_exactly_at_one() -> None:
    """10 of 10: high 1 exactly, low 10 / (10 + z²) = 0.722467 (the mirror of 0 of 10)."""
    low, high = wilson(10, 10)
    assert high == 1.0
    assert low == approx(10 / (10 + Z**2), 9)


def test_wilson_over_an_empty_base_is_the_whole_range() -> None:
    assert wilson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("count", "base", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_1998a(count: int, base: int, low: float, high: float) -> None:
    """The examples of Newcombe's table I, method 3 (score interval without correction)."""
    assert wilson(count, base) == (approx(low), approx(high))


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_bounds_solve_the_score_equation(case: tuple[int, int]) -> None:
    """The Wilson bounds are the proportions p where the observed share is exactly z
    standard errors away: (p̂ - p)² = z² p(1 - p) / n; the interval contains p̂."""
    count, base = case
    observed = count / base
    low, high = wilson(count, base)
    assert 0.0 <= low <= observed <= high <= 1.0
    for p in (low, high):
        assert (observed - p) ** 2 == pytest.approx(Z**2 * p * (1 - p) / base, abs=1e-12)


def test_a_wider_confidence_gives_a_wider_interval() -> None:
    narrow, wide = wilson(28, 196, 0.90), wilson(28, 196, 0.99)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1])
def test_a_confidence_outside_zero_and_one_is_refused(confidence: float) -> None:
    with pytest.raises(ValueError):
        wilson(1, 2, confidence)


# --- Comparing shares ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "difference", "low", "high"),
    [
        ((56, 70), (48, 80), 0.2000, 0.0524, 0.3339),
        ((9, 10), (3, 10), 0.6000, 0.1705, 0.8090),
        ((6, 7), (2, 7), 0.5714, 0.0582, 0.8062),
        ((5, 56), (0, 29), 0.0893, -0.0381, 0.1926),
        ((0, 10), (0, 20), 0.0000, -0.1611, 0.2775),
        ((0, 10), (0, 10), 0.0000, -0.2775, 0.2775),
        ((10, 10), (0, 20), 1.0000, 0.6791, 1.0000),
        ((10, 10), (0, 10), 1.0000, 0.6075, 1.0000),
    ],
)
def test_the_difference_interval_matches_newcombe_1998b(
    current: tuple[int, int],
    previous: tuple[int, int],
    difference: float,
    low: float,
    high: float,
) -> None:
    """All eight examples of Newcombe's table II, method 10 (hybrid score)."""
    change = compare(Share(*current), Share(*previous))
    assert change.difference == approx(difference)
    assert change.low == approx(low)
    assert change.high == approx(high)


def chi_squared_p(a: int, n1: int, b: int, n2: int) -> float:
    """The p-value of Pearson's chi-squared test of the 2x2 table, from observed and
    expected cells, without continuity correction: an independent route to the pooled z
    test (chi² = z²; P(chi²₁ > x) = erfc(sqrt(x / 2)))."""
    table = [[a, n1 - a], [b, n2 - b]]
    total = n1 + n2
    columns = [a + b, total - a - b]
    rows = [n1, n2]
    statistic = sum(
        (table[i][j] - rows[i] * columns[j] / total) ** 2 / (rows[i] * columns[j] / total)
        for i in range(2)
        for j in range(2)
    )
    return math.erfc(math.sqrt(statistic / 2))


def test_the_p_value_of_56_of_70_against_48_of_80() -> None:
    """Pooled 104/150 = 0.693333; se = sqrt(0.693333 · 0.306667 · (1/70 + 1/80)) =
    0.075467; z = 0.2 / 0.075467 = 2.6502; two-sided p = 0.00805: significant."""
    change = compare(Share(56, 70), Share(48, 80))
    assert change.p_value == approx(0.00805, 5)
    assert change.p_value == pytest.approx(chi_squared_p(56, 70, 48, 80), rel=1e-9)
    assert change.significant


@given(
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_the_p_value_equals_the_chi_squared_test(
    current: tuple[int, int], previous: tuple[int, int]
) -> None:
    """Whenever the pooled share is strictly between 0 and 1."""
    (a, n1), (b, n2) = current, previous
    if a + b in (0, n1 + n2):
        return
    change = compare(Share(a, n1), Share(b, n2))
    assert change.p_value == pytest.approx(chi_squared_p(a, n1, b, n2), rel=1e-6, abs=1e-15)
    assert change.low is not None and change.high is not None
    assert -1.0 <= change.low <= change.difference <= change.high <= 1.0


def test_one_in_fifteen_to_one_in_seven_over_250_victims() -> None:
    """2019: 15 of 225 (one in fifteen); 2020: 28 of 196 (one in seven). Pooled 43/421;
    se = sqrt(0.102138 · 0.897862 · (1/196 + 1/225)) = 0.029588;
    z = (0.142857 - 0.066667) / 0.029588 = 2.5750; p = 0.0100: the rise is larger than
    chance would give."""
    change = compare(Share(28, 196), Share(15, 225))
    assert change.difference == approx(0.0762)
    assert change.p_value == approx(0.0100)
    assert change.significant


def test_equal_shares_are_not_a_change() -> None:
    change = compare(Share(14, 100), Share(28, 200))
    assert change.difference == 0.0
    assert change.p_value == approx(1.0, 9)
    assert not change.significant


def test_no_one_in_either_year_gives_p_one() -> None:
    """All 0 (or all 1) in both years: nothing varies, the shares are equal."""
    assert compare(Share(0, 10), Share(0, 20)).p_value == 1.0
    assert compare(Share(10, 10), Share(20, 20)).p_value == 1.0


@pytest.mark.parametrize(("current", "previous"), [((0, 0), (3, 10)), ((3, 10), (0, 0))])
def test_a_year_without_a_base_cannot_be_compared(
    current: tuple[int, int], previous: tuple[int, int]
) -> None:
    change = compare(Share(*current), Share(*previous))
    assert (change.difference, change.low, change.high, change.p_value) == (None,) * 4
    assert not change.significant


def test_significant_means_p_below_alpha() -> None:
    assert ALPHA == 0.05
    # 59/100 against 46/100: p = 0.066, not significant; 60/100 against 46/100: p = 0.047.
    assert not compare(Share(59, 100), Share(46, 100)).significant
    assert compare(Share(60, 100), Share(46, 100)).significant


# --- Comparing counts ------------------------------------------------------------------


def binomial_pmf(k: int, n: int, p: float) -> float:
    return math.comb(n, k) * p**k * (1 - p) ** (n - k)


def brute_force_binomial_test(x: int, n: int, p: float) -> float:
    """Sum of P(k) over every outcome no more likely than x (R's rule, tolerance 1e-7)."""
    observed = binomial_pmf(x, n, p)
    return min(
        1.0,
        sum(
            binomial_pmf(k, n, p)
            for k in range(n + 1)
            if binomial_pmf(k, n, p) <= observed * (1 + 1e-7)
        ),
    )


@given(
    st.integers(0, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.floats(0.02, 0.98),
)
def test_the_exact_test_agrees_with_enumerating_every_outcome(
    case: tuple[int, int], p: float
) -> None:
    x, n = case
    assert binomial_test(x, n, p) == pytest.approx(brute_force_binomial_test(x, n, p), rel=1e-9)


def test_counts_match_rs_poisson_test_example() -> None:
    """R: poisson.test(c(11, 6 + 8 + 7), c(800, 1083 + 1050 + 878)) gives rate ratio
    1.971488, 95% interval 0.8584264 to 4.2772659, p-value 0.07967."""
    change = compare_counts(11, 21, exposure_current=800, exposure_previous=3011)
    assert change.ratio == approx(1.971488, 6)
    assert change.low == approx(0.8584264, 6)
    assert change.high == approx(4.2772659, 6)
    assert change.p_value == approx(0.07967, 5)
    assert not change.significant


def test_ten_victims_against_none() -> None:
    """Given 10 in total, each falls in either year with chance 1/2 under no change: only
    10-0 and 0-10 are as unlikely as 10-0, so p = 2 / 2¹⁰. The ratio's low end comes from
    the exact binomial bound 0.025^(1/10) = 0.691503: 0.691503 / 0.308497 = 2.2415; there
    is no upper end and no ratio (division by zero)."""
    change = compare_counts(10, 0)
    assert change.p_value == 2 / 2**10
    assert change.ratio is None
    assert change.high is None
    bound = 0.025 ** (1 / 10)
    assert change.low == pytest.approx(bound / (1 - bound), rel=1e-9)
    assert change.significant
    assert change.difference == 10


def test_none_against_seven() -> None:
    """p = 2 · (1/2)⁷ = 0.015625; ratio 0; the high end mirrors the low end of 7 against 0."""
    change = compare_counts(0, 7)
    assert change.p_value == pytest.approx(2 / 2**7)
    assert change.ratio == 0.0
    assert change.low == 0.0
    mirror = compare_counts(7, 0)
    assert mirror.low is not None and change.high is not None
    assert change.high == pytest.approx(1 / mirror.low, rel=1e-9)


def test_no_victims_in_either_year_is_no_comparison() -> None:
    change = compare_counts(0, 0)
    assert (change.ratio, change.low, change.high, change.p_value) == (None,) * 4
    assert not change.significant


def test_equal_counts_are_no_change() -> None:
    change = compare_counts(5, 5)
    assert change.ratio == 1.0
    assert change.p_value == approx(1.0, 9)
    assert change.low is not None and change.high is not None
    assert change.low < 1 < change.high


def test_the_rate_counts_not_the_raw_number() -> None:
    """10 victims in half a year is the same rate as 20 in a whole year."""
    change = compare_counts(10, 20, exposure_current=0.5, exposure_previous=1.0)
    assert change.ratio == pytest.approx(1.0)
    assert change.p_value == approx(1.0, 9)


def test_250_victims_against_180_is_a_real_rise() -> None:
    change = compare_counts(250, 180)
    assert change.ratio == pytest.approx(250 / 180)
    assert change.p_value is not None and change.p_value < 0.001
    assert change.low is not None and change.low > 1


@given(st.integers(0, 400), st.integers(0, 400))
def test_swapping_the_years_inverts_the_ratio(current: int, previous: int) -> None:
    """Same p-value; the interval of previous/current is the reciprocal of current/previous."""
    if current == 0 or previous == 0:
        return
    forward, backward = compare_counts(current, previous), compare_counts(previous, current)
    assert forward.p_value == pytest.approx(backward.p_value, rel=1e-9)
    assert forward.low is not None and forward.high is not None
    assert backward.low is not None and backward.high is not None
    assert forward.low == pytest.approx(1 / backward.high, rel=1e-6)
    assert forward.high == pytest.approx(1 / backward.low, rel=1e-6)
    assert forward.low <= (forward.ratio or 0) <= forward.high


def test_a_million_cases_compare_quickly() -> None:
    """The benchmark's counts: exact, yet well under a second (tails are summed only as far
    as they matter)."""
    start = time.perf_counter()
    change = compare_counts(500_000, 501_000)
    assert time.perf_counter() - start < 1.0
    assert change.p_value == pytest.approx(0.3184, abs=0.01)  # z = 1000 / sqrt(1001000)
    assert change.low is not None and change.high is not None
    assert change.low < 1 < change.high


@pytest.mark.parametrize(("count", "base"), [(0, 1), (0, 20), (3, 20), (20, 20), (7, 13)])
def test_clopper_pearson_bounds_leave_two_and_a_half_percent_in_each_tail(
    count: int, base: int
) -> None:
    """At the low end P(X >= count) = 0.025, at the high end P(X <= count) = 0.025,
    summed here term by term with exact binomial coefficients."""
    low, high = clopper_pearson(count, base)
    if count == 0:
        assert low == 0.0
        assert high == pytest.approx(1 - 0.025 ** (1 / base), rel=1e-9)
    else:
        upper_tail = sum(binomial_pmf(k, base, low) for k in range(count, base + 1))
        assert upper_tail == pytest.approx(0.025, rel=1e-9)
    if count == base:
        assert high == 1.0
    else:
        lower_tail = sum(binomial_pmf(k, base, high) for k in range(count + 1))
        assert lower_tail == pytest.approx(0.025, rel=1e-9)


def test_negative_counts_and_exposures_are_refused() -> None:
    with pytest.raises(ValueError):
        compare_counts(-1, 3)
    with pytest.raises(ValueError):
        compare_counts(1, 3, exposure_current=0)
    with pytest.raises(ValueError):
        binomial_test(1, 3, 1.0)


# --- against R ----------------------------------------------------------------------------
#
# Every value below was computed with R 4.2.2 (Debian's r-base-core 4.2.2.20221110-2) on
# 2026-12-07, printed with 15 significant digits:
#   binom.test(x, n, p)                              -> p.value, conf.int
#   poisson.test(c(x1, x2), c(t1, t2))               -> p.value, estimate, conf.int
#   prop.test(c(x1, x2), c(n1, n2), correct = FALSE) -> p.value
#   prop.test(x, n, correct = FALSE)                 -> conf.int (the Wilson interval)
# The first binom.test row is the example in R's own help page (Mendel's peas), the
# 11-of-800 against 21-of-3011 row the two-rate example of poisson.test's help page.

R_BINOM_TEST = [  # x, n, p, p.value, conf.low, conf.high
    (682, 925, 0.75, 0.382491559574852, 0.707668264079039, 0.765406558241525),
    (3, 20, 0.5, 0.00257682800292969, 0.0320709371854637, 0.378926826545314),
    (20, 30, 0.5, 0.0987371467053889, 0.47187995521012, 0.827125778473961),
    (0, 10, 0.3, 0.0388396033, 0.0, 0.308497107818761),
    (7, 7, 0.4, 0.0016384, 0.590383602774997, 1.0),
    (1, 1000, 0.01, 0.00113106959185197, 2.53174874912941e-05, 0.00555892427982663),
    (12, 250, 0.2, 6.66940233853469e-12, 0.0250449969239461, 0.082344629087715),
    (50, 100, 0.5, 1.0, 0.398321129503301, 0.601678870496699),
    (196, 200, 0.9, 1.56380975505241e-05, 0.949586390910104, 0.994524434120444),
]

R_POISSON_TEST = [  # x1, x2, t1, t2, p.value, rate ratio, conf.low, conf.high (None: Inf)
    (20, 10, 365, 365, 0.0987371467053889, 2.0, 0.893508890384692, 4.7845524403381),
    (10, 0, 1, 1, 0.001953125, None, 2.24152147509756, None),
    (0, 7, 1, 1, 0.015625, 0.0, 0.0, 0.693813980096453),
    (137, 100, 366, 365, 0.0191994512959425, 1.36625683060109, 1.04809850400464, 1.78617844104447),
    (11, 21, 800, 3011, 0.0796686330333295, 1.9714880952381, 0.858426403391639, 4.27726594365407),
    (250, 200, 365, 365, 0.0207918002476077, 1.25, 1.03374312856663, 1.51307039132843),
    (5, 5, 184, 365, 0.318809025115874, 1.98369565217391, 0.456532615013095, 8.61942457351228),
]

R_PROP_TEST_TWO = [  # x1, n1, x2, n2, p.value
    (28, 196, 14, 200, 0.0185644802234004),
    (5, 20, 2, 25, 0.117933786366459),
    (150, 250, 112, 200, 0.392599575851854),
    (1, 10, 9, 10, 0.000346619351134667),
    (40, 100, 40, 100, 1.0),
    (0, 20, 3, 30, 0.144661487772809),
]

R_PROP_TEST_ONE = [  # x, n, conf.low, conf.high
    (28, 196, 0.100723248633839, 0.198721417021781),
    (0, 20, 0.0, 0.161125158052819),
    (20, 20, 0.838874841947181, 1.0),
    (1, 9, 0.0198908876385449, 0.434999705576656),
    (150, 250, 0.53820166323746, 0.658771676863451),
    (81, 263, 0.255288519878274, 0.3662095769828),
]


@pytest.mark.parametrize(("x", "n", "p", "p_value", "low", "high"), R_BINOM_TEST)
def test_the_exact_binomial_test_and_interval_match_r(
    x: int, n: int, p: float, p_value: float, low: float, high: float
) -> None:
    """binomial_test and clopper_pearson give R's binom.test to 1e-10 (relative)."""
    assert binomial_test(x, n, p) == pytest.approx(p_value, rel=1e-10)
    assert clopper_pearson(x, n) == pytest.approx((low, high), rel=1e-10, abs=1e-15)


@pytest.mark.parametrize(
    ("x1", "x2", "t1", "t2", "p_value", "ratio", "low", "high"), R_POISSON_TEST
)
def test_the_change_of_a_count_matches_r_poisson_test(
    x1: int,
    x2: int,
    t1: int,
    t2: int,
    p_value: float,
    ratio: float | None,
    low: float,
    high: float | None,
) -> None:
    """compare_counts gives R's two-sample poisson.test: p-value, rate ratio and its exact
    interval (an infinite end is None here)."""
    change = compare_counts(x1, x2, exposure_current=t1, exposure_previous=t2)
    assert change.p_value == pytest.approx(p_value, rel=1e-10)
    assert change.ratio == (None if ratio is None else pytest.approx(ratio, rel=1e-10))
    assert change.low == pytest.approx(low, rel=1e-10, abs=1e-15)
    assert change.high == (None if high is None else pytest.approx(high, rel=1e-10))


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "p_value"), R_PROP_TEST_TWO)
def test_the_change_of_a_share_matches_r_prop_test(
    x1: int, n1: int, x2: int, n2: int, p_value: float
) -> None:
    """The pooled z test is R's prop.test without continuity correction."""
    assert compare(Share(x1, n1), Share(x2, n2)).p_value == pytest.approx(p_value, rel=1e-10)


@pytest.mark.parametrize(("x", "n", "low", "high"), R_PROP_TEST_ONE)
def test_the_wilson_interval_matches_r_prop_test(x: int, n: int, low: float, high: float) -> None:
    """The Wilson interval is the interval of R's one-sample prop.test without correction."""
    assert wilson(x, n) == pytest.approx((low, high), rel=1e-10, abs=1e-15)
