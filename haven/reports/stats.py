"""Shares, their uncertainty, and year-against-year change. Plain Python, no Django.

Every published share is a count over a base ("28 of 196"), shown with a 95% interval. The
methods are the ones a statistician would expect and can check by hand:

* the interval of one share is the **Wilson score interval** (Wilson 1927): it behaves
  well for small bases and for shares near 0 or 1, where the textbook ``p ± 1.96·se``
  interval collapses to a point or leaves [0, 1];
* the change of a share between two years is the **difference in proportion points**
  with **Newcombe's hybrid score interval** (Newcombe 1998, "Interval estimation for the
  difference between independent proportions", method 10), built from the two Wilson
  intervals; whether the change is larger than chance would give is the two-sided
  **pooled two-proportion z test** (the usual chi-squared test without continuity
  correction). The test and the interval are different methods and can, rarely and only
  at the 5% boundary, disagree; ``significant`` follows the test;
* the change of a count (victims this year against last year) treats each count as
  Poisson over its exposure (the length of the period). Given the total ``n = x1 + x2``,
  ``x1`` is binomial with ``p = t1 / (t1 + t2)`` when the rates are equal: the
  **conditional binomial test** (Przyborowski and Wilenski 1940). The p-value is the exact
  two-sided one (outcomes no more likely than the one observed, as R's ``binom.test``),
  and the interval of the rate ratio comes from the exact (Clopper-Pearson) interval of
  that binomial proportion; together this is what R's ``poisson.test`` computes for two
  counts.

The computations are SciPy's and statsmodels' (maintained and checked by many users);
this module keeps what is Haven's own: which method serves which figure, the checking of
the arguments, the exact ends at 0 and 1, and the cases with no data. The tests check it
against values from R (``binom.test``, ``poisson.test``, ``prop.test`` without correction).

Proportions are fractions from 0 to 1 throughout; a difference of 0.05 is five
percentage points. Functions validate their arguments and raise ``ValueError`` on
nonsense (a negative count, a count above its base) rather than return a figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)
from statsmodels.stats.rates import test_poisson_2indep

ALPHA = 0.05  # a change is "significant" when its two-sided p-value is below this
CONFIDENCE = 1 - ALPHA


def _check_count(count: int, base: int) -> None:
    # bool is an int subclass; True/False as a count is always a mistake upstream.
    for name, number in (("count", count), ("base", base)):
        if isinstance(number, bool) or not isinstance(number, int):
            raise ValueError(f"{name} must be a whole number, not {number!r}")
    if base < 0 or count < 0:
        raise ValueError(f"count and base must not be negative ({count} of {base})")
    if count > base:
        raise ValueError(f"count {count} is larger than its base {base}")


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, not {confidence}")


def wilson(count: int, base: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` for the proportion ``count / base``.

    ``(x + z²/2 ± z·sqrt(x(n-x)/n + z²/4)) / (n + z²)``. At ``count == 0`` the low end is
    exactly 0 and at ``count == base`` the high end is exactly 1 (the formula gives these
    values; they are set exactly so rounding cannot put them a hair outside [0, 1]). With
    ``base == 0`` there is no information and the interval is the whole range (0, 1),
    which is also the formula's limit.
    """
    _check_count(count, base)
    _check_confidence(confidence)
    if base == 0:
        return (0.0, 1.0)
    low, high = proportion_confint(count, base, alpha=1 - confidence, method="wilson")
    low = 0.0 if count == 0 else max(0.0, float(low))
    high = 1.0 if count == base else min(1.0, float(high))
    return (low, high)


@dataclass(frozen=True)
class Share:
    """``count`` of ``base`` cases, e.g. 28 of 196 victims said a parent was involved.

    The base is what the share is taken over (all victims, or only those for whom the
    answer is known); the report says which.
    """

    count: int
    base: int

    def __post_init__(self) -> None:
        _check_count(self.count, self.base)

    @property
    def value(self) -> float | None:
        """The proportion from 0 to 1; ``None`` when the base is 0 (no share exists)."""
        return None if self.base == 0 else self.count / self.base

    @property
    def percent(self) -> float | None:
        return None if self.base == 0 else 100 * self.count / self.base

    def interval(self, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
        """The Wilson interval; ``None`` when the base is 0."""
        return None if self.base == 0 else wilson(self.count, self.base, confidence)


@dataclass(frozen=True)
class Change:
    """A share this year (``current``) against an earlier year (``previous``).

    ``difference`` is ``current - previous`` as a proportion (0.05 = five percentage
    points), ``low``/``high`` its Newcombe interval, ``p_value`` the pooled z test. All
    four are ``None`` when either base is 0: there is nothing to compare.
    """

    current: Share
    previous: Share
    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        """Larger than chance would give: two-sided p below ALPHA (never with no data)."""
        return self.p_value is not None and self.p_value < ALPHA


def newcombe(
    current: Share, previous: Share, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``current.value - previous.value``.

    With p1, p2 the proportions and (l1, u1), (l2, u2) their Wilson intervals, and
    d = p1 - p2: ``low = d - sqrt((p1 - l1)² + (u2 - p2)²)``, ``high = d + sqrt((u1 - p1)²
    + (p2 - l2)²)``. Precondition: both bases are positive.
    """
    if current.value is None or previous.value is None:
        raise ValueError("a difference needs two shares with a positive base")
    _check_confidence(confidence)
    low, high = confint_proportions_2indep(
        current.count,
        current.base,
        previous.count,
        previous.base,
        method="newcomb",
        compare="diff",
        alpha=1 - confidence,
    )
    return (max(-1.0, float(low)), min(1.0, float(high)))


def pooled_z_test(current: Share, previous: Share) -> float:
    """The two-sided p-value of the pooled two-proportion z test.

    ``z = (p1 - p2) / sqrt(p(1 - p)(1/n1 + 1/n2))`` with p the pooled proportion. When
    both years are all 0 or all 1 the shares are equal and there is no variation: p = 1.
    Precondition: both bases are positive.
    """
    if current.value is None or previous.value is None:
        raise ValueError("a test needs two shares with a positive base")
    pooled = (current.count + previous.count) / (current.base + previous.base)
    if pooled in (0.0, 1.0):
        return 1.0  # no variation at all: the statistic is 0/0, and the shares are equal
    _z, p_value = proportions_ztest(
        [current.count, previous.count], [current.base, previous.base], value=0
    )
    return min(1.0, float(p_value))


def compare(current: Share, previous: Share, confidence: float = CONFIDENCE) -> Change:
    """The change of a share from ``previous`` to ``current`` (see :class:`Change`)."""
    if current.base == 0 or previous.base == 0:
        return Change(current, previous, None, None, None, None)
    assert current.value is not None and previous.value is not None  # bases are positive
    low, high = newcombe(current, previous, confidence)
    return Change(
        current,
        previous,
        difference=current.value - previous.value,
        low=low,
        high=high,
        p_value=pooled_z_test(current, previous),
    )


# --- Counts: the conditional binomial test ---------------------------------------------


def binomial_test(x: int, n: int, p: float) -> float:
    """The exact two-sided p-value of x successes in n trials when the chance is ``p``:
    the probabilities of all outcomes no more likely than ``x`` (with a relative tolerance
    of 1e-7 for ties), as R's ``binom.test`` (``scipy.stats.binomtest``). Precondition:
    0 < p < 1."""
    _check_count(x, n)
    if not 0 < p < 1:
        raise ValueError(f"p must lie strictly between 0 and 1, not {p}")
    if n == 0:
        return 1.0
    return min(1.0, float(binomtest(x, n, p).pvalue))


def clopper_pearson(count: int, base: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval for a binomial proportion (SciPy's
    ``proportion_ci(method="exact")``): ``low`` solves P(X ≥ count | low) = alpha/2 and
    ``high`` P(X ≤ count | high) = alpha/2; ``low`` is 0 when count is 0 and ``high`` is 1
    when count is the base. Used for the rate ratio of two counts."""
    _check_count(count, base)
    _check_confidence(confidence)
    if base == 0:
        return (0.0, 1.0)
    interval = binomtest(count, base).proportion_ci(confidence_level=confidence, method="exact")
    low = 0.0 if count == 0 else float(interval.low)
    high = 1.0 if count == base else float(interval.high)
    return (low, high)


@dataclass(frozen=True)
class CountChange:
    """A count this period (``current``) against an earlier one (``previous``).

    ``ratio`` is the rate ratio (current rate over previous rate, per unit of exposure),
    with its interval ``low`` to ``high``, and ``p_value`` the exact conditional binomial
    test of equal rates. ``ratio`` is ``None`` when the previous count is 0, and ``high``
    is ``None`` when the interval has no finite upper end (the previous count is 0);
    ``ratio``, ``low``, ``high`` and ``p_value`` are all ``None`` when both counts are 0.
    """

    current: int
    previous: int
    exposure_current: float
    exposure_previous: float
    ratio: float | None
    low: float | None
    high: float | None
    p_value: float | None

    @property
    def difference(self) -> int:
        return self.current - self.previous

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA


def compare_counts(
    current: int,
    previous: int,
    *,
    exposure_current: float = 1.0,
    exposure_previous: float = 1.0,
    confidence: float = CONFIDENCE,
) -> CountChange:
    """Whether a count changed more than chance would give (see module docstring).

    The exposures are the lengths of the two periods in any one unit (one year each by
    default); a count over half a year is compared at its rate, not its raw number.
    """
    for count in (current, previous):
        _check_count(count, count)  # a whole number, not negative
    if not (exposure_current > 0 and exposure_previous > 0):
        raise ValueError("exposures must be positive")
    if current == 0 and previous == 0:
        return CountChange(0, 0, exposure_current, exposure_previous, None, None, None, None)
    total = current + previous
    # statsmodels' exact conditional test of two Poisson rates (the binomial test of the
    # current count among both at the share of the exposure), as R's poisson.test.
    # (It also reports the ratio of the rates, dividing by 0 when the earlier count is 0:
    # that ratio is not used here, and NumPy's warning about it is silenced.)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = test_poisson_2indep(
            current, exposure_current, previous, exposure_previous, method="exact-cond"
        )
    p_value = min(1.0, float(result.pvalue))
    # Its interval, from the exact interval of that binomial proportion.
    p_low, p_high = clopper_pearson(current, total, confidence)
    scale = exposure_previous / exposure_current

    def to_ratio(p: float) -> float:
        return p / (1 - p) * scale

    return CountChange(
        current,
        previous,
        exposure_current,
        exposure_previous,
        ratio=None if previous == 0 else to_ratio(current / total),
        low=to_ratio(p_low),
        high=None if p_high >= 1.0 else to_ratio(p_high),
        p_value=p_value,
    )
