"""A plain phrase for a share, in Dutch and English: "een op de zeven" / "one in seven".

The phrase is chosen from the value by a fixed rule, never written by hand, so a figure and
its words cannot disagree and the same value always reads the same. Plain Python, no Django.

The rule
--------
1. Exactly 0 is "geen" / "none" and exactly 1 is "allemaal" / "all".
2. Otherwise the value is named by the **nearest simple fraction** from :data:`FRACTIONS`:
   half; thirds; quarters; one in n for n = 5 to 20 and 25, 30, 40, 50, 100; n in ten; and
   1 itself ("almost all"). When a value lies exactly halfway between two fractions the
   lower one is taken, so the fraction never goes down as the value goes up. 0 is not a
   candidate: a value above 0 is never "almost none" but "fewer than one in a hundred".
3. A **qualifier** says where the value lies from that fraction (d = value - fraction):

   ======================  ==========================  ===================================
   condition               Dutch / English             example
   ======================  ==========================  ===================================
   d = 0                   (none)                      1/7 → "een op de zeven"
   |d| ≤ about             "ongeveer" / "about"        0.34 → "ongeveer een derde"
   -near ≤ d < -about      "bijna" / "almost"          0.64 → "bijna twee derde"
   about < d ≤ near        "ruim" / "more than"        0.925 → "ruim negen op de tien"
   d < -near               "minder dan" / "fewer than" 0.005 → "minder dan een op de honderd"
   d > near                "meer dan" / "more than"    0.014 → "meer dan een op de honderd"
   ======================  ==========================  ===================================

   with ``about = min(0.01, fraction/10)`` (one percentage point, or a tenth of a small
   fraction) and ``near = min(0.05, fraction/4)``. Values are never more than 0.05 from
   their nearest fraction between 1/50 and 1, so "fewer than" and "more than" beyond
   ``near`` only occur below 1/50. A value whose nearest fraction is 1 (above 0.95) is
   always "bijna allemaal" / "almost all" ("about all" is not said).

"Exact" means equal: a share given as count and base (or as a Fraction) is compared exactly,
so 28 of 196 is exactly one in seven; a float is compared within 1e-12 (rounding noise).
In English "ruim" and "meer dan" both read "more than"; the qualifier keeps them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

EXACT_TOLERANCE = Fraction(1, 10**12)
ABOUT_MAX = Fraction(1, 100)
NEAR_MAX = Fraction(1, 20)


class Qualifier(StrEnum):
    """Where the value lies from the named fraction; the order is from below to above."""

    FEWER_THAN = "fewer_than"  # below, further than ``near``
    ALMOST = "almost"  # below, within ``near``
    ABOUT = "about"  # within ``about`` on either side
    EXACT = "exact"
    JUST_OVER = "just_over"  # above, within ``near`` ("ruim")
    MORE_THAN = "more_than"  # above, further than ``near`` ("meer dan")


QUALIFIER_WORDS: dict[Qualifier, tuple[str, str]] = {
    Qualifier.FEWER_THAN: ("minder dan", "fewer than"),
    Qualifier.ALMOST: ("bijna", "almost"),
    Qualifier.ABOUT: ("ongeveer", "about"),
    Qualifier.EXACT: ("", ""),
    Qualifier.JUST_OVER: ("ruim", "more than"),
    Qualifier.MORE_THAN: ("meer dan", "more than"),
}

_NUMBERS: dict[int, tuple[str, str]] = {
    2: ("twee", "two"),
    3: ("drie", "three"),
    4: ("vier", "four"),
    5: ("vijf", "five"),
    6: ("zes", "six"),
    7: ("zeven", "seven"),
    8: ("acht", "eight"),
    9: ("negen", "nine"),
    10: ("tien", "ten"),
    11: ("elf", "eleven"),
    12: ("twaalf", "twelve"),
    13: ("dertien", "thirteen"),
    14: ("veertien", "fourteen"),
    15: ("vijftien", "fifteen"),
    16: ("zestien", "sixteen"),
    17: ("zeventien", "seventeen"),
    18: ("achttien", "eighteen"),
    19: ("negentien", "nineteen"),
    20: ("twintig", "twenty"),
    25: ("vijfentwintig", "twenty-five"),
    30: ("dertig", "thirty"),
    40: ("veertig", "forty"),
    50: ("vijftig", "fifty"),
    100: ("honderd", "a hundred"),
}


def _fractions() -> dict[Fraction, tuple[str, str]]:
    # Named fractions first: where two spellings give the same value (2/10 and 1/5) the
    # first one listed is kept.
    named: list[tuple[Fraction, tuple[str, str]]] = [
        (Fraction(1, 2), ("de helft", "half")),
        (Fraction(1, 3), ("een derde", "a third")),
        (Fraction(2, 3), ("twee derde", "two thirds")),
        (Fraction(1, 4), ("een kwart", "a quarter")),
        (Fraction(3, 4), ("drie kwart", "three quarters")),
        (Fraction(1), ("allemaal", "all")),
    ]
    for n in (*range(5, 21), 25, 30, 40, 50, 100):
        dutch, english = _NUMBERS[n]
        named.append((Fraction(1, n), (f"een op de {dutch}", f"one in {english}")))
    for n in range(2, 10):
        dutch, english = _NUMBERS[n]
        named.append((Fraction(n, 10), (f"{dutch} op de tien", f"{english} in ten")))
    table: dict[Fraction, tuple[str, str]] = {}
    for value, words in named:
        table.setdefault(value, words)
    return dict(sorted(table.items()))


# Every fraction a phrase can name (besides 0), ascending, with its Dutch and English words.
FRACTIONS: dict[Fraction, tuple[str, str]] = _fractions()
_ASCENDING = tuple(FRACTIONS)


def about_tolerance(fraction: Fraction) -> Fraction:
    return min(ABOUT_MAX, fraction / 10)


def near_tolerance(fraction: Fraction) -> Fraction:
    return min(NEAR_MAX, fraction / 4)


@dataclass(frozen=True)
class Phrase:
    """A value named as ``qualifier`` + ``fraction``, with the words in both languages."""

    fraction: Fraction
    qualifier: Qualifier
    nl: str
    en: str

    def text(self, language: str) -> str:
        """The phrase in "nl" or "en" (a regional tag such as "en-gb" is accepted)."""
        base = language.lower().split("-")[0].split("_")[0]
        if base == "nl":
            return self.nl
        if base == "en":
            return self.en
        raise ValueError(f"no phrases in language {language!r}")


def _as_fraction(value: float | Fraction) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction):
        raise ValueError(f"a share is a number, not {value!r}")
    fraction = Fraction(value)
    if not 0 <= fraction <= 1:
        raise ValueError(f"a share lies between 0 and 1, not {value}")
    return fraction


def nearest(value: Fraction) -> Fraction:
    """The candidate fraction nearest to ``value`` (0 < value < 1); the lower one on a tie."""
    best = _ASCENDING[0]
    for candidate in _ASCENDING[1:]:
        if abs(value - candidate) < abs(value - best):
            best = candidate
    return best


def qualifier_for(
    value: Fraction, fraction: Fraction, exact_tolerance: Fraction = Fraction(0)
) -> Qualifier:
    """The qualifier for ``value`` named as ``fraction`` (see the table in the module doc)."""
    difference = value - fraction
    if abs(difference) <= exact_tolerance:
        return Qualifier.EXACT
    if fraction == 1:
        return Qualifier.ALMOST  # "ongeveer allemaal" is not said; below 1 is "bijna allemaal"
    if abs(difference) <= about_tolerance(fraction):
        return Qualifier.ABOUT
    if abs(difference) <= near_tolerance(fraction):
        return Qualifier.ALMOST if difference < 0 else Qualifier.JUST_OVER
    return Qualifier.FEWER_THAN if difference < 0 else Qualifier.MORE_THAN


def phrase(value: float | Fraction) -> Phrase:
    """The phrase for a share from 0 to 1. Pass a Fraction (or use :func:`phrase_for`) to
    have exact shares named without a qualifier however the float would round."""
    share = _as_fraction(value)
    # A float carries rounding noise (28 / 196 need not be exactly 1/7); a Fraction does not,
    # so it is compared exactly: 1 of a billion is not "none".
    tolerance = EXACT_TOLERANCE if isinstance(value, float) else Fraction(0)
    if share <= tolerance:
        return Phrase(Fraction(0), Qualifier.EXACT, "geen", "none")
    if share >= 1 - tolerance:
        return Phrase(Fraction(1), Qualifier.EXACT, "allemaal", "all")
    fraction = nearest(share)
    qualifier = qualifier_for(share, fraction, tolerance)
    dutch, english = FRACTIONS[fraction]
    qualifier_nl, qualifier_en = QUALIFIER_WORDS[qualifier]
    return Phrase(
        fraction,
        qualifier,
        f"{qualifier_nl} {dutch}".strip(),
        f"{qualifier_en} {english}".strip(),
    )


def phrase_for(count: int, base: int) -> Phrase | None:
    """The phrase for ``count`` of ``base``, compared exactly; ``None`` when the base is 0."""
    for name, number in (("count", count), ("base", base)):
        if isinstance(number, bool) or not isinstance(number, int):
            raise ValueError(f"{name} must be a whole number, not {number!r}")
    if not 0 <= count <= base:
        raise ValueError(f"count {count} does not lie between 0 and its base {base}")
    if base == 0:
        return None
    return phrase(Fraction(count, base))
