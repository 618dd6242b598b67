"""The plain phrase of a share follows from its value: the examples the knowledge centre
used, and properties that hold for every value (the phrase's fraction is within the
qualifier's tolerance, the qualifier points the right way, the phrase never goes down as
the value goes up)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from haven.reports.phrases import (
    FRACTIONS,
    Qualifier,
    about_tolerance,
    near_tolerance,
    phrase,
    phrase_for,
)


@pytest.mark.parametrize(
    ("value", "dutch", "english"),
    [
        (Fraction(28, 196), "een op de zeven", "one in seven"),
        (0.64, "bijna twee derde", "almost two thirds"),
        (0.25, "een kwart", "a quarter"),
        (0.5, "de helft", "half"),
        (0.925, "ruim negen op de tien", "more than nine in ten"),
        (Fraction(1, 15), "een op de vijftien", "one in fifteen"),
        (0, "geen", "none"),
        (1, "allemaal", "all"),
        (Fraction(1, 5), "een op de vijf", "one in five"),
        (Fraction(2, 3), "twee derde", "two thirds"),
        (0.34, "ongeveer een derde", "about a third"),
        (0.35, "ruim een derde", "more than a third"),
        (0.48, "bijna de helft", "almost half"),
        (0.97, "bijna allemaal", "almost all"),
        (0.005, "minder dan een op de honderd", "fewer than one in a hundred"),
        (0.014, "meer dan een op de honderd", "more than one in a hundred"),
        (Fraction(3, 4), "drie kwart", "three quarters"),
        (Fraction(7, 10), "zeven op de tien", "seven in ten"),
    ],
)
def test_the_phrases_the_knowledge_centre_uses(value: float, dutch: str, english: str) -> None:
    result = phrase(value)
    assert (result.nl, result.en) == (dutch, english)
    assert result.text("nl") == dutch
    assert result.text("en-GB") == english


def test_a_share_from_counts_is_exact() -> None:
    """28 of 196 is exactly one in seven (no "about"), 1 of 15 exactly one in fifteen."""
    assert phrase_for(28, 196) == phrase(Fraction(1, 7))
    assert phrase_for(28, 196).qualifier is Qualifier.EXACT  # type: ignore[union-attr]
    assert phrase_for(1, 15).en == "one in fifteen"  # type: ignore[union-attr]
    assert phrase_for(185, 200).en == "more than nine in ten"  # type: ignore[union-attr]


def test_a_float_that_rounds_is_still_exact() -> None:
    assert phrase(28 / 196).qualifier is Qualifier.EXACT
    assert phrase(0.1 + 0.2).en == "three in ten"


def test_one_in_a_trillion_is_not_none() -> None:
    """Counts are compared exactly: a single case is never rounded away to "none"."""
    assert phrase_for(1, 10**12).en == "fewer than one in a hundred"  # type: ignore[union-attr]


def test_a_share_over_nobody_has_no_phrase() -> None:
    assert phrase_for(0, 0) is None


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "half", True])
def test_a_value_outside_zero_to_one_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        phrase(value)  # type: ignore[arg-type]


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        phrase(0.5).text("fr")


def test_every_fraction_has_its_own_words() -> None:
    """No two fractions read the same, in either language."""
    assert len({dutch for dutch, _ in FRACTIONS.values()}) == len(FRACTIONS)
    assert len({english for _, english in FRACTIONS.values()}) == len(FRACTIONS)
    assert Fraction(0) not in FRACTIONS  # "none" only when exactly 0


shares = st.one_of(
    st.floats(0, 1, allow_nan=False),
    st.integers(1, 10_000).flatmap(lambda n: st.builds(Fraction, st.integers(0, n), st.just(n))),
)


@given(shares)
@example(0.95)
@example(0.0099)
@example(Fraction(9, 20))
def test_the_phrase_is_within_its_qualifiers_tolerance(value: float | Fraction) -> None:
    """The table of the module docstring, checked for any value."""
    result = phrase(value)
    share = Fraction(value)
    difference = share - result.fraction
    if result.qualifier is Qualifier.EXACT:
        assert abs(difference) <= Fraction(1, 10**12)
    elif result.fraction == 1:
        assert result.qualifier is Qualifier.ALMOST
        assert share < 1
    elif result.qualifier is Qualifier.ABOUT:
        assert abs(difference) <= about_tolerance(result.fraction)
    elif result.qualifier in (Qualifier.ALMOST, Qualifier.JUST_OVER):
        assert about_tolerance(result.fraction) < abs(difference)
        assert abs(difference) <= near_tolerance(result.fraction)
    else:
        assert abs(difference) > near_tolerance(result.fraction)


@given(shares)
def test_the_qualifier_points_the_right_way(value: float | Fraction) -> None:
    """ "Almost" and "fewer than" only below the fraction, "more than" only above it."""
    result = phrase(value)
    share = Fraction(value)
    if result.qualifier in (Qualifier.ALMOST, Qualifier.FEWER_THAN):
        assert share < result.fraction
        assert result.nl.startswith(("bijna ", "minder dan "))
        assert result.en.startswith(("almost ", "fewer than "))
    if result.qualifier in (Qualifier.JUST_OVER, Qualifier.MORE_THAN):
        assert share > result.fraction
        assert result.nl.startswith(("ruim ", "meer dan "))
        assert result.en.startswith("more than ")


@given(shares)
def test_the_fraction_is_the_nearest_one(value: float | Fraction) -> None:
    share = Fraction(value)
    result = phrase(value)
    if 0 < share < 1 and result.qualifier is not Qualifier.EXACT:
        distance = abs(share - result.fraction)
        assert all(abs(share - other) >= distance for other in FRACTIONS)


@given(shares, shares)
def test_a_larger_value_never_reads_smaller(a: float | Fraction, b: float | Fraction) -> None:
    """Monotone: the fraction named never goes down as the value goes up."""
    low, high = sorted([Fraction(a), Fraction(b)])
    assert phrase(low).fraction <= phrase(high).fraction


def test_the_fractions_leave_no_value_unnamed_between_one_in_fifty_and_one() -> None:
    """Neighbouring fractions from 1/50 up are at most 0.1 apart, so a value there is
    always within 0.05 ("almost" or "more than") of its nearest fraction."""
    values = [f for f in FRACTIONS if f >= Fraction(1, 50)]
    gaps = [b - a for a, b in itertools.pairwise(values)]
    assert max(gaps) <= Fraction(1, 10)
    for a, b in itertools.pairwise(values):
        middle = (a + b) / 2
        assert middle - a <= near_tolerance(a)
