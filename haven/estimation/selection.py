"""Choosing the model: SparseMSE's stepwise method, and AIC or BIC over all models. No Django.

Every function takes the cells of a table as :meth:`CaptureTable.cells` gives them (``z``,
``y``) and returns a :class:`Selection`, or raises :class:`NoModel` when not even the
main-effects model can be used. A candidate model that fails the existence or
identifiability check (:mod:`haven.estimation.loglinear`) is never chosen; the selection counts
how many were refused.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import poisson

from haven.estimation.loglinear import (
    Design,
    Fit,
    FitFailed,
    Term,
    build_design,
    check_design,
    estimate_exists,
    fit_design,
    on_all,
    refusal,
)
from haven.estimation.messages import Message

STEPWISE = "stepwise"
AIC = "aic"
BIC = "bic"
METHODS = (STEPWISE, AIC, BIC)
# SparseMSE's default: a pair enters the model while its Poisson p-value is below this.
THRESHOLD = 0.02
# Up to this many models the AIC/BIC search fits every model (5 lists and order 2 make
# 2^10 = 1,024); beyond it a greedy search is used and the selection says so.
EXHAUSTIVE_LIMIT = 1024

Model = tuple[Term, ...]


@dataclass(frozen=True)
class Step:
    """One stepwise step: the pair added and its Poisson p-value at that moment."""

    term: Term
    p_value: float


@dataclass(frozen=True)
class Selection:
    """The chosen model and how it was found.

    ``search`` is ``stepwise``; ``exhaustive`` (every model up to the order was tried);
    ``greedy`` (too many models: a forward-backward search from main effects, adding or
    removing one term at a time while the criterion improves); or ``restricted`` (only the
    models given, as in a bootstrap replicate of an AIC/BIC choice).
    """

    method: str
    fit: Fit
    search: str
    considered: int
    refused: int
    steps: tuple[Step, ...] = ()
    # The models tried that passed the checks, best first by the criterion (AIC/BIC only):
    # a bootstrap of an AIC/BIC choice searches among the first of them.
    ranking: tuple[Model, ...] = ()


class NoModel(Exception):
    """Not even the simplest model can be used on this table; ``message`` says why."""

    def __init__(self, message: Message) -> None:
        self.message = message
        super().__init__(message.render())


def all_pairs(lists: int) -> list[Term]:
    return list(itertools.combinations(range(lists), 2))


def main_effects(z: np.ndarray, y: np.ndarray, lists: Sequence[str]) -> Fit:
    """The main-effects model fitted, or :class:`NoModel` if it fails its checks."""
    design = build_design(z, y, ())
    check = check_design(design)
    if not check.ok:
        raise NoModel(refusal(check, design, lists))
    try:
        return fit_design(design)
    except FitFailed as exc:  # pragma: no cover - a checked main-effects model converges
        raise NoModel(refusal(check, design, lists)) from exc


def stepwise(
    z: np.ndarray, y: np.ndarray, lists: Sequence[str], threshold: float = THRESHOLD
) -> Selection:
    """SparseMSE's ``stepwisefit`` (Chan, Silverman & Vincent 2021).

    Start from main effects. At each step, for every pair not yet in the model, compare the
    number of people on both lists with its Poisson expectation under the current fit and
    take the smaller tail probability, P(X <= n) or P(X >= n); pairs nobody shares are
    candidates too. Add the pair with the smallest probability while it is below
    ``threshold``, skipping a pair whose model fails the checks; ties go to the first pair
    in list order. SparseMSE checks every candidate and then takes the smallest passing
    one; checking candidates in order of probability and taking the first that passes
    chooses the same pair with far fewer checks.
    """
    fit = main_effects(z, y, lists)
    pairs = all_pairs(len(lists))
    on_pair = np.column_stack([on_all(z, pair) for pair in pairs]).astype(float)
    shared = y @ on_pair  # people on both lists of each pair
    included = np.zeros(len(pairs), dtype=bool)
    terms: list[Term] = []
    steps: list[Step] = []
    considered, refused = 1, 0
    while not included.all():
        expected_all = np.zeros(len(y))
        expected_all[fit.design.keep] = fit.fitted
        expected = expected_all @ on_pair
        p_values = np.minimum(poisson.cdf(shared, expected), poisson.sf(shared - 1, expected))
        order = sorted(
            (p, index) for index, p in enumerate(p_values) if not included[index] and p < threshold
        )
        chosen: Fit | None = None
        for p, index in order:
            considered += 1
            candidate = _checked_fit(build_design(z, y, [*terms, pairs[index]]))
            if candidate is None:
                refused += 1
                continue
            chosen = candidate
            included[index] = True
            terms.append(pairs[index])
            steps.append(Step(pairs[index], float(p)))
            break
        if chosen is None:
            break
        fit = chosen
    return Selection(STEPWISE, fit, STEPWISE, considered, refused, tuple(steps))


def _checked_fit(design: Design) -> Fit | None:
    if not check_design(design).ok:
        return None
    try:
        return fit_design(design)
    except FitFailed:
        return None


# --- AIC and BIC ----------------------------------------------------------------------------


def candidate_terms(lists: int, max_order: int) -> list[Term]:
    """Every interaction term up to ``max_order`` lists (pairs first, then triples)."""
    return [
        term
        for order in range(2, max_order + 1)
        for term in itertools.combinations(range(lists), order)
    ]


def _is_hierarchical(model: Iterable[Term]) -> bool:
    present = set(model)
    return all(
        sub in present
        for term in present
        if len(term) > 2
        for sub in itertools.combinations(term, len(term) - 1)
    )


def all_models(lists: int, max_order: int, limit: int = EXHAUSTIVE_LIMIT) -> list[Model] | None:
    """Every hierarchical model with main effects and terms up to ``max_order`` lists, or
    ``None`` if there are more than ``limit`` (then a greedy search is used instead)."""
    pairs = candidate_terms(lists, 2)
    if max_order < 2:
        return [()]
    if len(pairs) > limit.bit_length() - 1:
        return None  # already 2^pairs > limit with pairs alone
    higher = candidate_terms(lists, max_order)[len(pairs) :]
    models: list[Model] = []
    for size in range(len(pairs) + 1):
        for chosen in itertools.combinations(pairs, size):
            allowed = [t for t in higher if _is_hierarchical([*chosen, t])]
            for extra_size in range(len(allowed) + 1):
                for extra in itertools.combinations(allowed, extra_size):
                    model = (*chosen, *extra)
                    if _is_hierarchical(model):
                        models.append(model)
                        if len(models) > limit:
                            return None
    return models


class _Models:
    """Checks and fits models on one table, each once (AIC and BIC share them).

    Identifiability (a rank) is cheap and checked before every fit; existence (a linear
    program) is dear and checked only where a model could be chosen. It is skipped where it
    cannot fail: if a model passed, so does every model with the same terms that nobody
    shares and a subset of its other terms (the same cells and a subset of the columns;
    Chan, Silverman & Vincent 2021 show that existence is kept).
    """

    def __init__(self, z: np.ndarray, y: np.ndarray) -> None:
        self.z, self.y = z, y
        self.designs: dict[Model, Design] = {}
        self.fits: dict[Model, Fit | None] = {}
        self.usable_: dict[Model, bool] = {}
        self.passed: dict[tuple[Term, ...], list[frozenset[Term]]] = {}

    def design(self, model: Model) -> Design:
        key = tuple(sorted(model))
        if key not in self.designs:
            self.designs[key] = build_design(self.z, self.y, key)
        return self.designs[key]

    def fit(self, model: Model) -> Fit | None:
        """The fit if the model is identifiable and converges; existence NOT checked."""
        key = tuple(sorted(model))
        if key not in self.fits:
            design = self.design(key)
            identifiable = np.linalg.matrix_rank(design.x) == design.x.shape[1]
            self.fits[key] = _fit_or_none(design) if identifiable else None
        return self.fits[key]

    def usable(self, model: Model, *, known_to_exist: bool = False) -> bool:
        """Does the model pass both checks (and converge)?"""
        key = tuple(sorted(model))
        if key not in self.usable_:
            design = self.design(key)
            fitted = frozenset(design.fitted_terms)
            known = self.passed.setdefault(design.empty_terms, [])
            exists = known_to_exist or any(fitted <= bigger for bigger in known)
            if not exists:
                exists = estimate_exists(design.x, design.y)
            self.usable_[key] = exists and self.fit(key) is not None
            if self.usable_[key]:
                known.append(fitted)
        return self.usable_[key]

    def get(self, model: Model) -> Fit | None:
        """The fit of a model that passes both checks, else None."""
        return self.fit(model) if self.usable(model) else None

    @property
    def considered(self) -> int:
        """Models fitted or checked."""
        return len(self.fits.keys() | self.usable_.keys())

    @property
    def refused(self) -> int:
        return sum(1 for ok in self.usable_.values() if not ok)


def _fit_or_none(design: Design) -> Fit | None:
    try:
        return fit_design(design)
    except FitFailed:
        return None


def criterion(method: str, observed: float) -> Callable[[Fit], float]:
    if method == AIC:
        return lambda fit: fit.aic
    return lambda fit: fit.bic(observed)


def information_criteria(
    z: np.ndarray,
    y: np.ndarray,
    lists: Sequence[str],
    *,
    methods: Sequence[str] = (AIC, BIC),
    max_order: int = 2,
    limit: int = EXHAUSTIVE_LIMIT,
    restrict_to: Sequence[Model] | None = None,
) -> dict[str, Selection]:
    """The model with the smallest AIC and the one with the smallest BIC.

    Over every hierarchical model up to ``max_order`` when there are at most ``limit`` of
    them, else by a greedy forward-backward search; or only over ``restrict_to``. Ties go
    to the model found first (fewer terms, then list order).
    """
    main_effects(z, y, lists)  # refuses the table when even main effects cannot be used
    observed = float(y.sum())
    models = _Models(z, y)
    results: dict[str, Selection] = {}
    candidates = (
        list(restrict_to) if restrict_to is not None else all_models(len(lists), max_order, limit)
    )
    for method in methods:
        score = criterion(method, observed)
        if candidates is not None:
            search = "restricted" if restrict_to is not None else "exhaustive"
            for model in sorted(candidates, key=len, reverse=True):
                models.get(model)  # largest first, so that smaller ones skip the checks
            scored = [(model, models.get(model)) for model in candidates]
        else:
            search = "greedy"
            scored = _greedy(models, len(lists), max_order, score)
        valid = [(score(fit), i, model, fit) for i, (model, fit) in enumerate(scored) if fit]
        if not valid:  # only possible with restrict_to: main effects passed above
            fit = main_effects(z, y, lists)
            valid = [(score(fit), 0, (), fit)]
        valid.sort(key=lambda item: (item[0], item[1]))
        best = valid[0][3]
        results[method] = Selection(
            method,
            best,
            search,
            considered=models.considered,
            refused=models.refused,
            ranking=tuple(item[2] for item in valid),
        )
    return results


def _greedy(
    models: _Models, lists: int, max_order: int, score: Callable[[Fit], float]
) -> list[tuple[Model, Fit | None]]:
    """Forward-backward search from main effects; returns every usable model it tried.

    Each round fits every model one term away (added, or removed where the hierarchy
    allows) and moves to the best-scoring one that passes the checks, while that improves
    the score. Existence is checked in score order and only until a model passes, so most
    neighbours never need their linear program.
    """
    terms = candidate_terms(lists, max_order)
    current: Model = ()
    current_fit = models.get(current)
    assert current_fit is not None  # main effects were checked by the caller
    best_score = score(current_fit)
    while True:
        present = set(current)
        neighbours: list[tuple[Model, bool]] = []
        for term in terms:
            if term not in present and _is_hierarchical([*current, term]):
                neighbours.append((tuple(sorted([*current, term])), False))
        for term in current:
            rest = tuple(t for t in current if t != term)
            if _is_hierarchical(rest):
                # Dropping a term that people share keeps the estimate existing.
                neighbours.append((rest, term in current_fit.design.fitted_terms))
        scored: list[tuple[float, int, Model, bool, Fit]] = []
        for index, (model, known) in enumerate(neighbours):
            fit = models.fit(model)
            if fit is not None:
                scored.append((score(fit), index, model, known, fit))
        scored.sort(key=lambda item: (item[0], item[1]))
        move: tuple[float, Model, Fit] | None = None
        for value, _index, model, known, fit in scored:
            if value >= best_score - 1e-9:
                break
            if models.usable(model, known_to_exist=known):
                move = (value, model, fit)
                break
        if move is None:
            return [(model, models.fits[model]) for model, ok in models.usable_.items() if ok]
        best_score, current, current_fit = move
