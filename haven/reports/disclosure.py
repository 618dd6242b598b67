"""Statistical disclosure control for published figures. Plain Python, no Django.

A published table must not let anyone learn something about a few identifiable people: a
count of 3 victims of 14 in one town is close to naming them. The internal report (for
analysts with the right role, marked confidential) shows exact figures; public output goes
through the rules below. :func:`rules` gives them as text for the report to print.

Rules (``threshold`` is 10 unless configured; it must be at least 2):

* **Primary suppression**: a count from 1 to ``threshold - 1`` is not shown. Totals are
  counts too and follow the same rule.
* **Zero is shown.** A zero describes nobody, so it reveals nothing about a person, and
  hiding zeros would hide real findings ("no victim under 12") and force many more cells to
  be hidden to protect them. Because zeros are always shown, a reader knows every hidden
  cell holds at least 1; the secondary rule takes that into account.
* **Secondary (complementary) suppression**, so that a hidden cell cannot be worked out
  from the totals. A table is a set of *lines*: cells that add up to a total (a one-way
  table with its total; each row and each column of a two-way table with its margin; the
  margins with the grand total). For every line:

  - a line with exactly one hidden cell (counting its total) gives that cell away by
    subtraction, so another cell of the line is hidden as well: the smallest non-zero
    shown cell of the line (a zero would not help, as hidden cells are known to be at
    least 1), and the line's total only when no other cell is left;
  - a line whose total is shown and whose hidden cells add up to exactly their number
    gives them all away (each must be 1), so one more cell is hidden in the same way.

  Hiding a cell can leave another line (its column, say) with one hidden cell, so the
  lines are checked again until nothing changes (a fixed point; this ends because cells
  are only ever added). Ties are broken by the order the cells are given in, so the same
  table always gives the same result.

  The line rule looks at one line at a time, but a reader can combine lines: in a
  two-way table, a row total that equals its only hidden cell, the margins and a column
  can together pin a cell that no single line gives away. So after the fixed point an
  **audit** (:func:`audit`) checks the whole table: exact linear algebra for cells the
  equations fix, and a small linear programme for cells that can only be 1. While it
  finds a cell given away, the smallest non-zero shown cell of the lines involved is
  hidden too, and the line rule runs again.
* **Shares** (a count over a base) are withheld when the base is below the threshold,
  when the count is hidden or small, and when the rest of the base (base - count) is
  small: "196 of 200 girls" with the base shown gives away the 4 who are not.
* **Youngest and oldest age** are given only as an age band in public output.

Limits: this audit sees one table and reasons over real numbers; whole-number reasoning
could, in rare cases, narrow a hidden cell further, and it does not demand a minimum
width for the range a hidden cell could lie in (only that the range is not a single
value). The report as a whole (the same count over two bases, overlapping sets, integer
reasoning) is audited by :mod:`haven.reports.audit` after these rules. Complementary
cells are chosen smallest first, which is simple and predictable but not the fewest cells
possible.
Published output should mark hidden cells all alike: printing *why* a cell is hidden
(primary or secondary) tells a reader which ones are below the threshold.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Generic, TypeVar

DEFAULT_THRESHOLD = 10

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)
T = TypeVar("T", bound=Hashable)


class Reason(StrEnum):
    PRIMARY = "primary"  # a count from 1 to threshold - 1
    SECONDARY = "secondary"  # hidden so that a primary cell cannot be recovered from totals


class Withheld(StrEnum):
    """Why a share is not given."""

    SMALL_BASE = "small_base"  # the base is below the threshold
    SMALL_COUNT = "small_count"  # the count is from 1 to threshold - 1
    SMALL_REST = "small_rest"  # base - count is from 1 to threshold - 1
    SUPPRESSED = "suppressed"  # the count is hidden in its table (secondary suppression)


def _check_threshold(threshold: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 2:
        raise ValueError(f"the threshold must be a whole number of at least 2, not {threshold!r}")


def _check_counts(values: Iterable[int]) -> None:
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"counts must be whole numbers of at least 0, not {value!r}")


def is_small(count: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether a count is hidden by primary suppression: 1 to threshold - 1 (0 is shown)."""
    _check_threshold(threshold)
    _check_counts([count])
    return 0 < count < threshold


@dataclass(frozen=True)
class Line(Generic[K]):
    """Cells (``members``) that add up to a ``total`` cell; all are keys of one table."""

    members: tuple[K, ...]
    total: K


def suppress(
    values: Mapping[K, int], lines: Sequence[Line[K]], threshold: int = DEFAULT_THRESHOLD
) -> dict[K, Reason]:
    """The hidden cells of a table and why, by the rules in the module docstring.

    ``values`` holds every cell (margins included) by key; ``lines`` says which cells add up
    to which. Precondition, checked: every line adds up. The result maps each hidden key to
    its reason, in the order the cells were hidden.
    """
    _check_threshold(threshold)
    _check_counts(values.values())
    for line in lines:
        if sum(values[key] for key in line.members) != values[line.total]:
            raise ValueError(f"the cells {line.members} do not add up to {line.total}")

    hidden: dict[K, Reason] = {
        key: Reason.PRIMARY for key, value in values.items() if 0 < value < threshold
    }

    def complement(line: Line[K]) -> K | None:
        """The cell to hide next in ``line``: the smallest non-zero shown member, else the
        total, else None (nothing left that would help)."""
        shown = [key for key in line.members if key not in hidden and values[key] > 0]
        if shown:
            # min() keeps the first of equal values: ties go by the order of the members.
            return min(shown, key=lambda key: values[key])
        if line.total not in hidden and values[line.total] > 0:
            return line.total
        return None

    def gives_away(line: Line[K]) -> bool:
        cells = (*line.members, line.total)
        count = sum(1 for key in cells if key in hidden)
        if count == 1:
            return True
        if line.total in hidden:
            return False
        members = [key for key in line.members if key in hidden]
        # Every hidden cell is at least 1; if they add up to their number, each one is 1.
        return bool(members) and sum(values[key] for key in members) == len(members)

    while True:
        changed = True
        while changed:
            changed = False
            for line in lines:
                while gives_away(line):
                    key = complement(line)
                    if key is None:
                        break
                    hidden[key] = Reason.SECONDARY
                    changed = True
        # The line rule cannot see a value given away by several lines together.
        exposed, culprits = audit(values, lines, hidden)
        if not exposed:
            return hidden
        shown = _shown_nonzero(values, lines, hidden, culprits)
        if not shown:  # not expected (see audit); then open up any line with a hidden cell
            involved = [i for i, line in enumerate(lines) if _has_hidden(line, hidden)]
            shown = _shown_nonzero(values, lines, hidden, involved)
        if not shown:
            raise AssertionError(f"cannot protect the hidden cells {sorted(map(str, exposed))}")
        hidden[min(shown, key=lambda key: values[key])] = Reason.SECONDARY


def _has_hidden(line: Line[K], hidden: Mapping[K, object]) -> bool:
    return line.total in hidden or any(key in hidden for key in line.members)


def _shown_nonzero(
    values: Mapping[K, int],
    lines: Sequence[Line[K]],
    hidden: Mapping[K, object],
    which: Iterable[int],
) -> list[K]:
    """The shown non-zero cells of the given lines, in line order, each once."""
    found: dict[K, None] = {}
    for index in sorted(which):
        line = lines[index]
        for key in (*line.members, line.total):
            if key not in hidden and values[key] > 0:
                found.setdefault(key)
    return list(found)


def audit(
    values: Mapping[K, int], lines: Sequence[Line[K]], hidden: Mapping[K, object]
) -> tuple[set[K], set[int]]:
    """The hidden cells a reader can work out exactly, and the lines that give them away.

    A reader knows the shown cells, that every line adds up, and that every hidden cell is
    at least 1 (zeros are shown). So the hidden cells ``x`` satisfy ``A x = b`` (one
    equation per line) and ``x >= 1``. A hidden cell is given away when it has the same
    value in every such ``x``. That happens in two ways, and both are checked exactly as
    linear algebra allows (see :func:`_always_one` and :func:`_determined`):

    * some cells can only be 1: a combination of lines whose hidden cells add up to no more
      than their number (the line rule's "all ones" across several lines);
    * with those fixed at 1, a cell is determined by the equations: a combination of lines
      leaves it alone.

    Together this is complete for the real-valued relaxation: the cells constant over the
    polyhedron ``{A x = b, x >= 1}`` are exactly those fixed by the equations plus the
    bounds that hold with equality everywhere. (Whole-number reasoning could in rare
    cases pin a cell the relaxation leaves free; not checked.)
    """
    unknown = [key for key in values if key in hidden]
    if not unknown:
        return (set(), set())
    ones, forcing = _always_one(values, lines, unknown)
    determined, combining = _determined(lines, [key for key in unknown if key not in ones])
    exposed = ones | determined
    return (exposed, (forcing | combining) if exposed else set())


def _determined(lines: Sequence[Line[K]], unknown: Sequence[K]) -> tuple[set[K], set[int]]:
    """The ``unknown`` cells the line equations fix, and the lines combined to fix them.

    The equations are ``sum(unknown members) - (total if unknown) = shown part``. An
    unknown is fixed when its unit vector lies in the row space of the equations: after
    Gauss-Jordan elimination (over exact fractions) some row has it as its only
    coefficient. Each row remembers which lines it combines.
    """
    wanted = set(unknown)
    reduced: list[tuple[K, dict[K, Fraction], dict[int, Fraction]]] = []  # (pivot, row, lines)
    for index, line in enumerate(lines):
        coefficients: dict[K, Fraction] = {}
        for key in line.members:
            if key in wanted:
                coefficients[key] = coefficients.get(key, Fraction(0)) + 1
        if line.total in wanted:
            coefficients[line.total] = coefficients.get(line.total, Fraction(0)) - 1
        coefficients = {key: c for key, c in coefficients.items() if c}
        origin = {index: Fraction(1)}
        for pivot, pivot_row, pivot_origin in reduced:
            factor = coefficients.get(pivot)
            if factor:
                _subtract(coefficients, pivot_row, factor)
                _subtract(origin, pivot_origin, factor)
        if not coefficients:
            continue  # a combination of earlier lines: adds nothing
        pivot = next(iter(coefficients))
        scale = coefficients[pivot]
        coefficients = {key: c / scale for key, c in coefficients.items()}
        origin = {i: c / scale for i, c in origin.items()}
        # Keep the matrix fully reduced: clear the new pivot from the earlier rows.
        for _pivot, other_row, other_origin in reduced:
            factor = other_row.get(pivot)
            if factor:
                _subtract(other_row, coefficients, factor)
                _subtract(other_origin, origin, factor)
        reduced.append((pivot, coefficients, origin))
    fixed: set[K] = set()
    combined: set[int] = set()
    for pivot, coefficients, origin in reduced:
        if len(coefficients) == 1:
            fixed.add(pivot)
            combined.update(origin)
    return (fixed, combined)


def _subtract(row: dict[T, Fraction], other: Mapping[T, Fraction], factor: Fraction) -> None:
    """row -= factor * other, dropping entries that become 0 (in place)."""
    for key, value in other.items():
        result = row.get(key, Fraction(0)) - factor * value
        if result:
            row[key] = result
        else:
            row.pop(key, None)


_EPSILON = 1e-9


def _always_one(
    values: Mapping[K, int], lines: Sequence[Line[K]], unknown: Sequence[K]
) -> tuple[set[K], set[int]]:
    """The unknown cells that are 1 in every solution, and the lines that force it.

    With ``y = x - 1`` the solutions are ``{A y = b', y >= 0}``; a cell is forced to 1 when
    its ``y`` is 0 throughout. One linear programme finds all of them at once, on the cone
    ``{A y = b' s, y >= 0, s >= 0}`` (which holds the same ``y`` that can be positive):
    maximise the sum of ``t_k`` subject to ``t_k <= y_k`` and ``t_k <= 1``. Scaling lets
    every cell that can be positive reach ``t_k = 1`` together, so at the optimum the
    forced cells are exactly those with ``t_k = 0``; the lines whose equations carry a
    non-zero dual price are the ones forcing them.

    Solved by the simplex method with Bland's rule (no cycling on this degenerate
    problem), in floating point: the coefficients are -1, 0 and 1 apart from ``b'``, which
    is scaled per row, and the answer is read with a margin of 0.5.
    """
    position = {key: i for i, key in enumerate(unknown)}
    h = len(unknown)
    equations: list[tuple[int, list[float]]] = []  # (line, row over y and s)
    for index, line in enumerate(lines):
        row = [0.0] * (h + 1)
        shown = 0
        for key in line.members:
            if key in position:
                row[position[key]] += 1
            else:
                shown += values[key]
        if line.total in position:
            row[position[line.total]] -= 1
        else:
            shown -= values[line.total]
        if not any(row[:h]):
            continue
        # sum(a x) = -shown; with x = 1 + y: sum(a y) - (-shown - sum(a)) s = 0.
        b_prime = -shown - sum(row[:h])
        row[h] = -b_prime
        largest = max(abs(c) for c in row)
        equations.append((index, [c / largest for c in row]))
    if not equations:
        return (set(), set())

    # Columns: y_0..y_{h-1}, s, t_0..t_{h-1}, then one slack per constraint. Every
    # constraint is "row <= rhs" with rhs >= 0, so the slacks give a first feasible basis.
    n = 2 * h + 1
    constraints: list[tuple[list[float], float]] = []
    for _index, row in equations:
        padded = row + [0.0] * h
        constraints.append((padded, 0.0))
        constraints.append(([-c for c in padded], 0.0))
    for k in range(h):
        bound = [0.0] * n
        bound[h + 1 + k] = 1.0
        constraints.append((bound, 1.0))
        link = [0.0] * n
        link[h + 1 + k] = 1.0
        link[k] = -1.0
        constraints.append((link, 0.0))
    m = len(constraints)
    width = n + m
    tableau = [
        [*row, *(1.0 if j == i else 0.0 for j in range(m)), rhs]
        for i, (row, rhs) in enumerate(constraints)
    ]
    basis = [n + i for i in range(m)]
    # Reduced costs of the objective "maximise sum t" (positive: improves).
    cost = [0.0] * (h + 1) + [1.0] * h + [0.0] * m + [0.0]
    while True:
        entering = next((j for j in range(width) if cost[j] > _EPSILON), None)
        if entering is None:
            break
        best: tuple[float, int, int] | None = None  # (ratio, basic variable, row)
        for i, row in enumerate(tableau):
            if row[entering] > _EPSILON:
                candidate = (row[-1] / row[entering], basis[i], i)
                if (
                    best is None
                    or candidate[0] < best[0] - _EPSILON
                    or (abs(candidate[0] - best[0]) <= _EPSILON and candidate[1] < best[1])
                ):
                    best = candidate
        if best is None:  # unbounded: impossible, as every t_k <= 1
            raise AssertionError("the disclosure audit's linear programme is unbounded")
        pivot_row = best[2]
        pivot = tableau[pivot_row]
        factor = pivot[entering]
        pivot[:] = [c / factor for c in pivot]
        for i, row in enumerate(tableau):
            if i != pivot_row and abs(row[entering]) > _EPSILON:
                f = row[entering]
                row[:] = [c - f * p for c, p in zip(row, pivot, strict=True)]
        f = cost[entering]
        cost[:] = [c - f * p for c, p in zip(cost, pivot, strict=True)]
        basis[pivot_row] = entering

    t = [0.0] * h
    for i, variable in enumerate(basis):
        if h + 1 <= variable < n:
            t[variable - h - 1] = tableau[i][-1]
    forced = {unknown[k] for k in range(h) if t[k] < 0.5}
    if not forced:
        return (set(), set())
    # The dual price of a constraint is minus the reduced cost of its slack.
    forcing = {
        equations[e][0]
        for e in range(len(equations))
        if abs(cost[n + 2 * e]) > _EPSILON or abs(cost[n + 2 * e + 1]) > _EPSILON
    }
    return (forced, forcing)


@dataclass(frozen=True)
class Cell:
    """One published number: its true ``value`` and, when hidden, ``reason``."""

    value: int
    reason: Reason | None = None

    @property
    def hidden(self) -> bool:
        return self.reason is not None

    @property
    def shown(self) -> int | None:
        """The number to publish, or ``None`` when it is hidden."""
        return None if self.reason is not None else self.value


def _applied(hidden: Mapping[K, Reason]) -> frozenset[str]:
    return frozenset(str(reason) for reason in hidden.values())


@dataclass(frozen=True)
class ProtectedLine(Generic[K]):
    """A one-way table after disclosure control. ``total`` is ``None`` when none was given.

    ``applied`` names the rules that hid something ("primary", "secondary").
    """

    cells: dict[K, Cell]
    total: Cell | None
    applied: frozenset[str]


_TOTAL = object()  # the key of a line's total, distinct from every category key


def protect_line(
    counts: Mapping[K, int],
    *,
    total: int | None = None,
    additive: bool = True,
    threshold: int = DEFAULT_THRESHOLD,
) -> ProtectedLine[K]:
    """Disclosure control for one question's counts by category.

    ``additive``: the categories exclude each other (one answer per case, "unknown"
    included), so they add up to the total, which defaults to their sum and is checked
    against it when given. A total is then always published and protected. For a question
    with several answers per case the counts do not add up: pass ``additive=False`` (and
    the number of cases as ``total``, if it is published); only primary suppression
    applies, as no sum links the cells.
    """
    _check_counts(counts.values())
    if additive:
        if total is None:
            total = sum(counts.values())
        elif total != sum(counts.values()):
            raise ValueError(f"the counts add up to {sum(counts.values())}, not to {total}")
    values: dict[object, int] = {key: value for key, value in counts.items()}
    lines: list[Line[object]] = []
    if total is not None:
        values[_TOTAL] = total
        if additive:
            lines.append(Line(tuple(counts), _TOTAL))
    hidden = suppress(values, lines, threshold)
    return ProtectedLine(
        cells={key: Cell(value, hidden.get(key)) for key, value in counts.items()},
        total=None if total is None else Cell(total, hidden.get(_TOTAL)),
        applied=_applied(hidden),
    )


@dataclass(frozen=True)
class ProtectedTable(Generic[R, C]):
    """A two-way table after disclosure control: ``cells[row][column]``, the margins
    (``None`` when not published) and the grand total (``None`` unless both margins are)."""

    cells: dict[R, dict[C, Cell]]
    row_totals: dict[R, Cell] | None
    column_totals: dict[C, Cell] | None
    total: Cell | None
    applied: frozenset[str]


def protect_table(
    counts: Mapping[R, Mapping[C, int]],
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    threshold: int = DEFAULT_THRESHOLD,
) -> ProtectedTable[R, C]:
    """Disclosure control for a two-way table, e.g. a category (rows) by year (columns).

    Precondition, checked: every row has the same columns. ``row_totals`` and
    ``column_totals`` say which margins are published; each published margin makes its
    rows (or columns) lines that must not give a cell away, and with both margins the grand
    total links them. A margin is only a sum when the rows (or columns) exclude each other:
    for a question with several answers per case, the per-year number of cases is not the
    sum of the categories, so pass ``column_totals=False`` and publish it separately.
    """
    rows = list(counts)
    columns = list(counts[rows[0]]) if rows else []
    for row in rows:
        if list(counts[row]) != columns:
            raise ValueError(f"row {row!r} does not have the columns {columns!r}")
        _check_counts(counts[row].values())

    values: dict[tuple[str, object, object], int] = {}
    for row in rows:
        for column in columns:
            values[("cell", row, column)] = counts[row][column]
    lines: list[Line[tuple[str, object, object]]] = []
    if row_totals:
        for row in rows:
            values[("row", row, None)] = sum(counts[row].values())
            members = tuple(("cell", row, column) for column in columns)
            lines.append(Line(members, ("row", row, None)))
    if column_totals:
        for column in columns:
            values[("column", None, column)] = sum(counts[row][column] for row in rows)
            members = tuple(("cell", row, column) for row in rows)
            lines.append(Line(members, ("column", None, column)))
    grand = row_totals and column_totals
    if grand:
        values[("total", None, None)] = sum(sum(counts[row].values()) for row in rows)
        lines.append(Line(tuple(("row", row, None) for row in rows), ("total", None, None)))
        lines.append(
            Line(tuple(("column", None, column) for column in columns), ("total", None, None))
        )
    hidden = suppress(values, lines, threshold)

    def cell(key: tuple[str, object, object]) -> Cell:
        return Cell(values[key], hidden.get(key))

    return ProtectedTable(
        cells={row: {column: cell(("cell", row, column)) for column in columns} for row in rows},
        row_totals={row: cell(("row", row, None)) for row in rows} if row_totals else None,
        column_totals=(
            {column: cell(("column", None, column)) for column in columns}
            if column_totals
            else None
        ),
        total=cell(("total", None, None)) if grand else None,
        applied=_applied(hidden),
    )


def share_withheld(
    count: int,
    base: int,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    count_hidden: bool = False,
) -> Withheld | None:
    """Why the share ``count`` of ``base`` may not be published, or ``None`` when it may.

    ``count_hidden``: the count is hidden in its table (also by secondary suppression); a
    share of a hidden count would give it back (share * base). Checked in the order of
    :class:`Withheld`, the first reason that holds is returned.
    """
    _check_threshold(threshold)
    _check_counts([count, base])
    if count > base:
        raise ValueError(f"count {count} is larger than its base {base}")
    if base < threshold:
        return Withheld.SMALL_BASE
    if 0 < count < threshold:
        return Withheld.SMALL_COUNT
    if 0 < base - count < threshold:
        return Withheld.SMALL_REST
    if count_hidden:
        return Withheld.SUPPRESSED
    return None


@dataclass(frozen=True)
class Band:
    """An age band: ``low`` to ``high`` years inclusive; ``high`` ``None`` means no upper end."""

    code: str
    low: int
    high: int | None

    @property
    def label(self) -> str:
        """E.g. "12-15" (with an en dash) or "35+": the same in Dutch and English."""
        return f"{self.low}+" if self.high is None else f"{self.low}\N{EN DASH}{self.high}"


def age_band(age: int, bands: Sequence[tuple[str, int, int | None]]) -> Band:
    """The band ``age`` falls in, from ``bands`` as ``(code, low, high)`` in ascending order
    (the shape of the codebook's ``AGE_BANDS``).

    Precondition, checked: the bands do not overlap and only the last is open-ended. An age
    outside every band is an error, not a guess.
    """
    _check_counts([age])
    previous_high: int | None = -1
    for index, (_code, low, high) in enumerate(bands):
        if previous_high is None or low <= previous_high:
            raise ValueError(f"the age bands overlap or are out of order at {low}")
        if high is not None and high < low:
            raise ValueError(f"the age band {low} to {high} is empty")
        if high is None and index != len(bands) - 1:
            raise ValueError("only the last age band may be open-ended")
        previous_high = high
    for code, low, high in bands:
        if low <= age and (high is None or age <= high):
            return Band(code, low, high)
    raise ValueError(f"no age band holds the age {age}")


@dataclass(frozen=True)
class Rule:
    """One disclosure-control rule as the report prints it."""

    code: str
    nl: str
    en: str


RULE_CODES = ("primary", "zero", "secondary", "share", "extremes")


def rules(
    threshold: int = DEFAULT_THRESHOLD, codes: Iterable[str] | None = None
) -> tuple[Rule, ...]:
    """The rules in Dutch and English, for the report to say what was applied.

    ``codes`` picks some (in the order of :data:`RULE_CODES`); all of them by default.
    """
    _check_threshold(threshold)
    small = threshold - 1
    text = {
        "primary": (
            f"Aantallen van 1 tot en met {small} worden niet getoond.",
            f"Counts from 1 to {small} are not shown.",
        ),
        "zero": (
            "Een nul wordt wel getoond: die gaat over niemand.",
            "Zeros are shown: they are about nobody.",
        ),
        "secondary": (
            "Waar een verborgen aantal uit de totalen of andere cijfers te berekenen zou zijn, "
            "is ook een ander aantal verborgen.",
            "Where a hidden count could be worked out from the totals or other figures, "
            "another count is hidden as well.",
        ),
        "share": (
            f"Een percentage wordt niet gegeven over minder dan {threshold} slachtoffers, en "
            "ook niet als het aantal of de rest daarvan verborgen is of van 1 tot en met "
            f"{small}.",
            f"A share is not given over fewer than {threshold} victims, nor when its count "
            f"or the rest of its base is hidden or from 1 to {small}.",
        ),
        "extremes": (
            f"De jongste en oudste leeftijd worden alleen als leeftijdsgroep gegeven, en alleen "
            f"als in die groep minstens {threshold} slachtoffers zijn.",
            f"The youngest and oldest age are given as an age band only, and only when that "
            f"band holds at least {threshold} victims.",
        ),
    }
    wanted = RULE_CODES if codes is None else tuple(codes)
    unknown = set(wanted) - set(RULE_CODES)
    if unknown:
        raise ValueError(f"unknown disclosure rules: {sorted(unknown)}")
    return tuple(Rule(code, *text[code]) for code in RULE_CODES if code in wanted)
