"""Poisson log-linear models of a capture table: design, checks and fitting. No Django.

A model holds the main effect of every list plus a set of interaction *terms*; a term is a
tuple of two (or three) list indices, in increasing order. The expected count of a pattern
is ``exp(intercept + sum of the effects of its lists and of its terms)``, so the expected
count of the all-zero pattern, the people on no list, is ``exp(intercept)``.

Sparse tables need care (Chan, Silverman & Vincent 2021; Fienberg & Rinaldo 2012):

* A term whose lists have nobody in common has the maximum-likelihood value minus infinity. As in
  SparseMSE, it gets no column; instead every cell that holds all its lists is left out of
  the fit (its expected count is 0), and it still counts as a parameter for AIC and BIC.
* The maximum-likelihood estimate exists only if the observed margins lie inside the
  marginal cone: some strictly positive table has the same sufficient statistics. A linear
  program decides that (:func:`estimate_exists`).
* The model is identifiable only if its design matrix has full column rank.

A model failing either check is refused with a plain explanation instead of fitted; a fit
on it would report a meaningless, often huge, number. Fitting uses statsmodels' GLM.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy.optimize import linprog

from haven.estimation.messages import Message, gettext_noop

_ = gettext_noop

Term = tuple[int, ...]
# Between the list names of a term in words (LA, the sign, NG).
TIMES = "\N{MULTIPLICATION SIGN}"

# The linear program's optimum is the largest possible smallest cell of a positive table with
# the observed margins; counts are whole numbers, so any table that really has a positive
# interior point gives an optimum far above this, while a boundary table gives 0 up to the
# solver's own tolerance (about 1e-9).
_INTERIOR = 1e-6


@dataclass(frozen=True)
class Design:
    """The model matrix of one model on one table.

    ``fitted_terms`` have people in common and a column each; ``empty_terms`` have nobody in
    common and instead remove their cells (``keep`` is False there). ``x`` and ``y`` hold the
    kept cells only: an intercept column, one column per list, one per fitted term.
    """

    terms: tuple[Term, ...]
    fitted_terms: tuple[Term, ...]
    empty_terms: tuple[Term, ...]
    keep: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @property
    def parameters(self) -> int:
        """Parameters for AIC and BIC: the columns plus the infinite ones (as SparseMSE counts)."""
        return self.x.shape[1] + len(self.empty_terms)


def on_all(z: np.ndarray, term: Term) -> np.ndarray:
    """Which cells hold every list of ``term``."""
    return np.asarray(z[:, list(term)].all(axis=1))


def build_design(z: np.ndarray, y: np.ndarray, terms: Iterable[Term]) -> Design:
    """The design of the model with main effects plus ``terms`` on cells ``z`` with counts
    ``y`` (all cells but the all-zero one, as :meth:`CaptureTable.cells` gives them)."""
    ordered = tuple(sorted(set(terms)))
    keep = np.ones(len(y), dtype=bool)
    fitted: list[Term] = []
    empty: list[Term] = []
    products: list[np.ndarray] = []
    for term in ordered:
        cells = on_all(z, term)
        if y[cells].sum() == 0:
            empty.append(term)
            keep &= ~cells
        else:
            fitted.append(term)
            products.append(cells)
    columns = [np.ones(len(y)), *z.T, *(p.astype(float) for p in products)]
    x = np.column_stack(columns)[keep]
    return Design(ordered, tuple(fitted), tuple(empty), keep, x, y[keep])


@dataclass(frozen=True)
class Check:
    """Whether the maximum-likelihood estimate of a design exists and is identifiable."""

    exists: bool
    identifiable: bool

    @property
    def ok(self) -> bool:
        return self.exists and self.identifiable


def estimate_exists(x: np.ndarray, y: np.ndarray) -> bool:
    """Fienberg & Rinaldo's test: does a strictly positive table have the margins ``x.T @ y``?

    Linear program: maximise ``s`` over ``w >= 0, s >= 0`` with ``x.T @ (w + s) = x.T @ y``,
    that is over tables ``w + s`` whose every cell is at least ``s``. The estimate exists
    exactly when ``s`` can be positive. (SparseMSE writes the same program with ``n`` extra
    inequality rows; substituting ``w = table - s`` removes them and is several times faster.)
    """
    if (y > 0).all():
        return True  # the observed table itself is a positive table with those margins
    n = x.shape[0]
    margins = x.T @ y
    equalities = np.hstack([x.T, x.sum(axis=0)[:, None]])
    objective = np.zeros(n + 1)
    objective[-1] = -1.0
    result = linprog(objective, A_eq=equalities, b_eq=margins, bounds=(0, None), method="highs")
    # y itself is feasible (w = y, s = 0) and s is bounded by the intercept row, so the
    # program always has an optimum; any other status is a solver failure, taken as "no".
    return bool(result.status == 0 and -result.fun > _INTERIOR)


def check_design(design: Design) -> Check:
    rank = int(np.linalg.matrix_rank(design.x))
    identifiable = rank == design.x.shape[1]
    return Check(exists=estimate_exists(design.x, design.y), identifiable=identifiable)


@dataclass(frozen=True)
class Fit:
    """A fitted model: the log of the unseen number and its standard error, fit figures."""

    design: Design
    log_unseen: float
    se_log_unseen: float
    fitted: np.ndarray  # expected counts of the kept cells
    deviance: float
    loglik: float
    df: int

    @property
    def unseen(self) -> float:
        return math.exp(self.log_unseen)

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.design.parameters

    def bic(self, observed: float) -> float:
        """BIC with the number of people seen as the sample size (as Rcapture does)."""
        return -2.0 * self.loglik + math.log(observed) * self.design.parameters


class FitFailed(RuntimeError):
    """The GLM did not converge; callers treat the model like one that failed its checks."""


def fit_design(design: Design) -> Fit:
    """Fit a design that passed :func:`check_design` (on any other the answer is meaningless).

    statsmodels' GLM with the Poisson family and its log link, by iteratively reweighted
    least squares; the standard error of the intercept comes from its covariance matrix.
    """
    with warnings.catch_warnings():
        # A checked design converges; statsmodels' warnings about near-zero fitted values
        # (cells with count 0) are expected in sparse tables and carry no news here.
        warnings.simplefilter("ignore")
        result = sm.GLM(design.y, design.x, family=sm.families.Poisson()).fit(maxiter=100)
    if not result.converged or not np.isfinite(result.params[0]):
        raise FitFailed("the Poisson GLM did not converge")
    return Fit(
        design=design,
        log_unseen=float(result.params[0]),
        se_log_unseen=float(result.bse[0]),
        fitted=np.asarray(result.fittedvalues, dtype=float),
        deviance=float(result.deviance),
        loglik=float(result.llf),
        df=int(design.x.shape[0] - design.x.shape[1]),
    )


# --- words ----------------------------------------------------------------------------------


def term_name(term: Term, lists: Sequence[str]) -> str:
    return TIMES.join(lists[i] for i in term)


def join_words(items: Sequence[str]) -> str | Message:
    """``a``, ``a and b``, ``a, b and c`` (the "and" is translated)."""
    if len(items) == 1:
        return items[0]
    return Message(
        "and", _("%(items)s and %(last)s"), {"items": ", ".join(items[:-1]), "last": items[-1]}
    )


def describe(design: Design, lists: Sequence[str]) -> Message:
    """The model in words, for example "main effects plus LA{TIMES}NG and PF{TIMES}GO"."""
    fitted = [term_name(term, lists) for term in design.fitted_terms]
    empty = [term_name(term, lists) for term in design.empty_terms]
    if fitted and empty:
        return Message(
            "model_terms_and_empty",
            _("main effects plus %(terms)s; %(empty)s taken to have nobody in common"),
            {"terms": join_words(fitted), "empty": join_words(empty)},
        )
    if empty:
        return Message(
            "model_empty",
            _("main effects; %(empty)s taken to have nobody in common"),
            {"empty": join_words(empty)},
        )
    if fitted:
        return Message(
            "model_terms", _("main effects plus %(terms)s"), {"terms": join_words(fitted)}
        )
    return Message("model_main", _("main effects only"))


def refusal(check: Check, design: Design, lists: Sequence[str]) -> Message:
    """Why a model cannot be used, in plain words."""
    model = describe(design, lists)
    if not check.exists and not check.identifiable:
        return Message(
            "model_not_exist_not_identifiable",
            _(
                "The model (%(model)s) cannot be used: with these counts its estimate does not "
                "exist, and it has more parameters than the observed patterns can determine."
            ),
            {"model": model},
        )
    if not check.exists:
        return Message(
            "model_not_exist",
            _(
                "The model (%(model)s) cannot be used: with these counts its estimate does not "
                "exist. The empty patterns would push the fit towards an infinitely large or "
                "small number, so the number of unseen people is not determined. A simpler "
                "model, or combining sparse lists, may help."
            ),
            {"model": model},
        )
    return Message(
        "model_not_identifiable",
        _(
            "The model (%(model)s) cannot be used: it has more parameters than the observed "
            "patterns can determine, so different numbers of unseen people fit the counts "
            "equally well."
        ),
        {"model": model},
    )
