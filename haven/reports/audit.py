"""The attacker's audit of one period's published figures. Plain Python (NumPy, SciPy), no Django.

The line rule of :mod:`haven.reports.disclosure` protects each table of the report on its
own. A reader holds the whole report, though: the same count appears over two bases, the
(step)parent figures are overlapping sets, and every share is a count over a base that
another figure publishes. This module plays that reader.

The reader knows (see docs/reports.md, "The attacker"):

* every number the report publishes for the period (the counts, bases and unknowns of the
  shares that are shown, the number of victims when it is shown), and that a percentage,
  interval, phrase or change is computed from those numbers alone (so it adds nothing);
* every identity between the counts (:class:`Constraint`, built by
  :func:`haven.reports.figures.identities`): answers that exclude each other add up, a
  share's base is its total minus the unknowns left out, the parent figures are unions and
  overlaps of four sets, the same count published twice is one number;
* that counts are whole numbers of at least 0, and what the rules say about a withheld
  figure: its count is at least 1 unless its base is below the threshold (zeros are shown),
  and unknowns kept in a base are at least 1.

For each *protected quantity* (a withheld count, the rest of a withheld share's base, a
count hidden in its table) it asks an integer linear programme (``scipy.optimize.milp``)
whether any other value is possible. A quantity whose only possible value is not 0 is
*exposed*. (A quantity pinned at 0 describes nobody: zeros are published anyway.)

The promise checked is therefore: **no withheld quantity has a single possible value other
than 0**. It is the promise the line rule made per table, now over the whole report.
Limits, also in docs/reports.md: the reader is not assumed to re-run the choice of
complements (which cell the line rule picked, and why), nor to use the finer cases of the
share rule (a withheld count is 1 to threshold - 1, or its rest is); a range of two values
counts as protected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

# A linear expression over named counts: {name: coefficient}.
Expr = Mapping[str, int]


@dataclass(frozen=True)
class Constraint:
    """``low <= sum(coefficient * count) <= high``; ``None`` for no bound on that side."""

    expr: Expr
    low: int | None
    high: int | None

    @staticmethod
    def equal(expr: Expr, value: int = 0) -> Constraint:
        return Constraint(expr, value, value)

    @staticmethod
    def at_least(expr: Expr, value: int = 0) -> Constraint:
        return Constraint(expr, value, None)


@dataclass(frozen=True)
class Either:
    """The reader knows ``expr_a >= low_a`` or ``expr_b <= high_b`` (or both).

    Used for a withheld figure: its count is at least 1, or its base is below the
    threshold (a zero over a base at or above the threshold would have been shown)."""

    expr_a: Expr
    low_a: int
    expr_b: Expr
    high_b: int


@dataclass(frozen=True)
class Protected:
    """A quantity the report withholds: ``name`` for messages, ``expr`` over the counts, and
    its true ``value`` (the audit only asks whether another value is possible)."""

    name: str
    expr: Expr
    value: int


class _Model:
    """The reader's integer programme: the constraints as one sparse-free matrix (the
    programmes are small: about a hundred counts and two hundred rows)."""

    def __init__(
        self,
        constraints: Sequence[Constraint],
        either: Sequence[Either],
        names: Sequence[str],
        big: int,
    ) -> None:
        self.names = list(dict.fromkeys(names))
        for c in constraints:
            self._add_names(c.expr)
        for e in either:
            self._add_names(e.expr_a)
            self._add_names(e.expr_b)
        self.index = {name: i for i, name in enumerate(self.names)}
        # One binary per "either": 1 means "the count is at least low_a", 0 "the base is small".
        self.n = len(self.names) + len(either)
        rows: list[np.ndarray] = []
        lows: list[float] = []
        highs: list[float] = []
        for c in constraints:
            rows.append(self._row(c.expr))
            lows.append(-np.inf if c.low is None else c.low)
            highs.append(np.inf if c.high is None else c.high)
        for k, e in enumerate(either):
            z = len(self.names) + k
            # expr_a - low_a * z >= 0: with z = 1 the count is at least low_a.
            row = self._row(e.expr_a)
            row[z] -= e.low_a
            rows.append(row)
            lows.append(0)
            highs.append(np.inf)
            # expr_b - big * z <= high_b: with z = 0 the base is at most high_b; with z = 1
            # the row holds for any base up to big.
            row = self._row(e.expr_b)
            row[z] -= big
            rows.append(row)
            lows.append(-np.inf)
            highs.append(e.high_b)
        self.matrix = np.array(rows) if rows else np.zeros((0, self.n))
        self.lows = np.array(lows, dtype=float)
        self.highs = np.array(highs, dtype=float)
        upper = np.full(self.n, np.inf)
        upper[len(self.names) :] = 1
        self.bounds = Bounds(np.zeros(self.n), upper)
        self.integrality = np.ones(self.n)

    def _add_names(self, expr: Expr) -> None:
        for name in expr:
            if name not in self.names:
                self.names.append(name)

    def _row(self, expr: Expr) -> np.ndarray:
        row = np.zeros(self.n)
        for name, coefficient in expr.items():
            row[self.index[name]] += coefficient
        return row

    def feasible_with(self, expr: Expr, low: float, high: float) -> bool:
        """Whether some solution has ``low <= expr <= high``."""
        matrix = np.vstack([self.matrix, self._row(expr)])
        constraint = LinearConstraint(
            matrix, np.append(self.lows, low), np.append(self.highs, high)
        )
        return self._solve(np.zeros(self.n), constraint) is not None

    def extreme(self, objective: np.ndarray) -> np.ndarray | None:
        """A solution that minimises ``objective`` (None when the minimum is unbounded)."""
        constraint = LinearConstraint(self.matrix, self.lows, self.highs)
        return self._solve(objective, constraint, unbounded_ok=True)

    def _solve(
        self, objective: np.ndarray, constraint: LinearConstraint, *, unbounded_ok: bool = False
    ) -> np.ndarray | None:
        result = milp(
            c=objective,
            constraints=constraint,
            integrality=self.integrality,
            bounds=self.bounds,
        )
        # 0: a solution; 2: infeasible; 3: unbounded. Anything else (a time or iteration
        # limit) is not a proof that a value is pinned, but must not pass silently either.
        if result.status == 0:
            return np.asarray(result.x)
        if result.status == 2 or (result.status == 3 and unbounded_ok):
            return None
        raise RuntimeError(f"the disclosure audit's integer programme failed: {result.message}")


def exposed(
    constraints: Sequence[Constraint],
    either: Sequence[Either],
    protected: Sequence[Protected],
    *,
    big: int,
) -> list[Protected]:
    """The protected quantities a reader can work out exactly (only one value, not 0).

    Preconditions: the true counts satisfy every constraint (the audit asks only whether
    *another* value is possible, so one solution, the truth, always exists); ``big`` is at
    least every base of an :class:`Either` in any solution the reader should consider (the
    number of victims will do). It must stay well below a million: the solver accepts a
    binary within 1e-6 of whole, and ``big`` times that must stay below 1."""
    if not protected:
        return []
    if not 0 < big < 500_000:
        raise ValueError(f"big must be from 1 to 499,999, not {big}")
    names = [name for p in protected for name in p.expr]
    model = _Model(constraints, either, names, big)
    # A zero describes nobody, pinned or not.
    open_ = [quantity for quantity in protected if quantity.value != 0]
    # First, cheaply: solutions that push every open quantity up, then down, at once. Any
    # quantity that differs from its true value in one of them is not pinned. (Most are
    # freed this way, which saves one or two programmes per quantity.)
    for direction in (-1.0, 1.0):
        if not open_:
            break
        objective = np.zeros(model.n)
        for quantity in open_:
            objective += direction * model._row(quantity.expr)
        solution = model.extreme(objective)
        if solution is None:
            continue
        open_ = [
            quantity
            for quantity in open_
            if round(float(model._row(quantity.expr) @ solution)) == quantity.value
        ]
    found: list[Protected] = []
    for quantity in open_:
        if model.feasible_with(quantity.expr, quantity.value + 1, np.inf):
            continue
        if model.feasible_with(quantity.expr, -np.inf, quantity.value - 1):
            continue
        found.append(quantity)
    return found


def value_of(expr: Expr, counts: Mapping[str, int | None]) -> int:
    """The value of ``expr`` at ``counts`` (a name missing or None counts as 0)."""
    return sum(coefficient * int(counts.get(name) or 0) for name, coefficient in expr.items())
