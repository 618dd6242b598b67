"""Multiple systems estimation of a capture table: the one entry point. Plain Python, no Django.

:func:`estimate` takes a :class:`~haven.estimation.table.CaptureTable` and returns an
:class:`Estimate`: the estimated total, the unseen part, the share seen, the chosen model
in words, the model-based and (optionally) BCa bootstrap intervals, the AIC/BIC/stepwise
choices side by side, and warnings. An :class:`Estimate` turns into JSON-safe data with
:meth:`Estimate.to_dict` and back with :meth:`Estimate.from_dict`, so it can be stored with
a yearly report and shown again later (its sentences keep their templates, so they can be
shown in another language). When not even the main-effects model can be used,
:class:`~haven.estimation.selection.NoModel` is raised with the reason.

``docs/estimation.md`` describes the method and its limits for people.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import norm
from threadpoolctl import threadpool_limits

from haven.estimation import bootstrap as boot
from haven.estimation.loglinear import describe, term_name
from haven.estimation.messages import Message, gettext_noop
from haven.estimation.selection import (
    AIC,
    BIC,
    METHODS,
    STEPWISE,
    THRESHOLD,
    Model,
    NoModel,
    Selection,
    information_criteria,
    stepwise,
)
from haven.estimation.table import CaptureTable

_ = gettext_noop

__all__ = ["Estimate", "Interval", "ModelEstimate", "NoModel", "estimate"]

FORMAT = "haven-mse"
FORMAT_VERSION = 1
# Fewer people than this in common make a pair's interaction rest on a handful of people.
SPARSE_OVERLAP = 5
# A list with fewer people than this says little about the others.
SMALL_LIST = 10
# Estimates of the methods further apart than this factor mean the model choice matters.
DISAGREEMENT = 1.25
# A bootstrap of an AIC or BIC choice searches, in every replicate, only the models that
# were best on the original table (Silverman, Chan & Vincent 2024): searching all of them a
# thousand times would take hours, and models far down the ranking are hardly ever chosen.
BOOTSTRAP_MODELS = 20
MAX_ORDER = 3


@dataclass(frozen=True)
class Interval:
    """An interval for the total (seen plus unseen) at ``level`` (0.95 for 95%)."""

    lower: float
    upper: float
    level: float

    def to_dict(self) -> dict[str, float]:
        return {"lower": self.lower, "upper": self.upper, "level": self.level}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interval:
        return cls(float(data["lower"]), float(data["upper"]), float(data["level"]))


@dataclass(frozen=True)
class ModelEstimate:
    """The estimate of one model choice (``method``: stepwise, aic or bic).

    ``interactions`` are the terms with people in common, as list names; ``no_overlap`` the
    terms taken to have nobody in common (their cells are left out of the fit). ``steps``
    (stepwise only) are the pairs in the order added, with their p-values.
    """

    method: str
    search: str
    interactions: tuple[tuple[str, ...], ...]
    no_overlap: tuple[tuple[str, ...], ...]
    words: Message
    total: float
    unseen: float
    interval: Interval
    log_unseen: float
    se_log_unseen: float
    deviance: float
    df: int
    aic: float
    bic: float
    considered: int
    refused: int
    steps: tuple[tuple[tuple[str, ...], float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "search": self.search,
            "interactions": [list(term) for term in self.interactions],
            "no_overlap": [list(term) for term in self.no_overlap],
            "words": self.words.to_dict(),
            "total": self.total,
            "unseen": self.unseen,
            "interval": self.interval.to_dict(),
            "log_unseen": self.log_unseen,
            "se_log_unseen": self.se_log_unseen,
            "deviance": self.deviance,
            "df": self.df,
            "aic": self.aic,
            "bic": self.bic,
            "models_considered": self.considered,
            "models_refused": self.refused,
            "steps": [{"term": list(term), "p_value": p} for term, p in self.steps],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelEstimate:
        return cls(
            method=str(data["method"]),
            search=str(data["search"]),
            interactions=tuple(tuple(term) for term in data["interactions"]),
            no_overlap=tuple(tuple(term) for term in data["no_overlap"]),
            words=Message.from_dict(data["words"]),
            total=float(data["total"]),
            unseen=float(data["unseen"]),
            interval=Interval.from_dict(data["interval"]),
            log_unseen=float(data["log_unseen"]),
            se_log_unseen=float(data["se_log_unseen"]),
            deviance=float(data["deviance"]),
            df=int(data["df"]),
            aic=float(data["aic"]),
            bic=float(data["bic"]),
            considered=int(data["models_considered"]),
            refused=int(data["models_refused"]),
            steps=tuple((tuple(s["term"]), float(s["p_value"])) for s in data["steps"]),
        )


@dataclass(frozen=True)
class BootstrapSummary:
    """What the bootstrap did; ``interval`` is ``None`` when BCa could not be computed."""

    replications: int
    seed: int
    failed: int
    jackknife_failed: int
    bias_correction: float
    acceleration: float
    interval: Interval | None
    searched_models: int | None = None  # AIC/BIC: how many top models each replicate searched

    def to_dict(self) -> dict[str, Any]:
        return {
            "replications": self.replications,
            "seed": self.seed,
            "failed": self.failed,
            "jackknife_failed": self.jackknife_failed,
            "bias_correction": _finite_or_none(self.bias_correction),
            "acceleration": self.acceleration,
            "interval": self.interval.to_dict() if self.interval else None,
            "searched_models": self.searched_models,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BootstrapSummary:
        bias = data["bias_correction"]
        return cls(
            replications=int(data["replications"]),
            seed=int(data["seed"]),
            failed=int(data["failed"]),
            jackknife_failed=int(data["jackknife_failed"]),
            bias_correction=math.nan if bias is None else float(bias),
            acceleration=float(data["acceleration"]),
            interval=Interval.from_dict(data["interval"]) if data["interval"] else None,
            searched_models=data.get("searched_models"),
        )


@dataclass(frozen=True)
class Estimate:
    """A whole estimate: the chosen model's figures first, then everything behind them."""

    lists: tuple[str, ...]
    list_sizes: tuple[int, ...]
    observed: int
    method: str
    threshold: float
    max_order: int
    level: float
    model: ModelEstimate
    comparison: tuple[ModelEstimate, ...]
    bootstrap: BootstrapSummary | None
    warnings: tuple[Message, ...] = field(default=())

    @property
    def total(self) -> float:
        return self.model.total

    @property
    def unseen(self) -> float:
        return self.model.unseen

    @property
    def share_seen(self) -> float:
        return self.observed / self.total

    @property
    def one_in(self) -> int:
        """N in "about one in N victims is seen"."""
        return max(1, round(self.total / self.observed))

    @property
    def seen_sentence(self) -> Message:
        if self.one_in >= 2:
            return Message("one_in", _("about one in %(n)s victims is seen"), {"n": self.one_in})
        return Message("nearly_all_seen", _("nearly all victims are seen"))

    @property
    def interval(self) -> Interval:
        """The interval to quote: BCa when the bootstrap ran and gave one, else the model's."""
        if self.bootstrap is not None and self.bootstrap.interval is not None:
            return self.bootstrap.interval
        return self.model.interval

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe data (see ``docs/estimation.md`` for the shape)."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "lists": list(self.lists),
            "list_sizes": list(self.list_sizes),
            "observed": self.observed,
            "method": self.method,
            "threshold": self.threshold,
            "max_order": self.max_order,
            "level": self.level,
            "total": self.total,
            "unseen": self.unseen,
            "share_seen": self.share_seen,
            "one_in": self.one_in,
            "seen_sentence": self.seen_sentence.to_dict(),
            "model": self.model.to_dict(),
            "comparison": [choice.to_dict() for choice in self.comparison],
            "bootstrap": self.bootstrap.to_dict() if self.bootstrap else None,
            "warnings": [warning.to_dict() for warning in self.warnings],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Estimate:
        if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
            raise ValueError("not a stored Haven estimate of a known version")
        return cls(
            lists=tuple(data["lists"]),
            list_sizes=tuple(int(n) for n in data["list_sizes"]),
            observed=int(data["observed"]),
            method=str(data["method"]),
            threshold=float(data["threshold"]),
            max_order=int(data["max_order"]),
            level=float(data["level"]),
            model=ModelEstimate.from_dict(data["model"]),
            comparison=tuple(ModelEstimate.from_dict(c) for c in data["comparison"]),
            bootstrap=BootstrapSummary.from_dict(data["bootstrap"]) if data["bootstrap"] else None,
            warnings=tuple(Message.from_dict(w) for w in data["warnings"]),
        )


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def estimate(
    table: CaptureTable,
    *,
    method: str = STEPWISE,
    threshold: float = THRESHOLD,
    max_order: int = 2,
    compare: bool = True,
    bootstrap: int = boot.REPLICATIONS,
    seed: int = boot.SEED,
    level: float = 0.95,
    progress: boot.Progress | None = None,
) -> Estimate:
    """Estimate how many people are on none of the table's lists.

    ``method`` chooses the model: ``stepwise`` (SparseMSE, with ``threshold``), ``aic`` or
    ``bic`` (over models with interactions of up to ``max_order`` lists). With ``compare``
    the other methods are computed too and reported side by side. ``bootstrap`` is the
    number of BCa replications (0 for none), drawn from ``seed``; ``progress(done, total)``
    is told after each. ``level`` is the confidence level of both intervals.

    Raises :class:`NoModel` when not even the main-effects model can be used on the table,
    and ``ValueError`` for arguments out of range.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if not 0.0 <= threshold < 1.0:
        raise ValueError("threshold must be at least 0 and below 1")
    if not 1 <= max_order <= MAX_ORDER:
        raise ValueError(f"max_order must be between 1 and {MAX_ORDER}")
    if bootstrap < 0:
        raise ValueError("bootstrap must be 0 (none) or a number of replications")
    if not 0.0 < level < 1.0:
        raise ValueError("level must be between 0 and 1, for example 0.95")
    # The matrices are small (at most 4,095 cells) and there are thousands of them: BLAS
    # threads only add overhead, many times the work itself on a busy two-core machine.
    with threadpool_limits(limits=1, user_api="blas"):
        return _estimate(
            table, method=method, threshold=threshold, max_order=max_order, compare=compare,
            bootstrap=bootstrap, seed=seed, level=level, progress=progress,
        )  # fmt: skip


def _estimate(
    table: CaptureTable,
    *,
    method: str,
    threshold: float,
    max_order: int,
    compare: bool,
    bootstrap: int,
    seed: int,
    level: float,
    progress: boot.Progress | None,
) -> Estimate:
    z, y = table.cells()
    lists = table.lists
    _refuse_degenerate_lists(z, y, lists)
    selections: dict[str, Selection] = {}
    if method == STEPWISE or compare:
        selections[STEPWISE] = stepwise(z, y, lists, threshold)
    if method in (AIC, BIC) or compare:
        wanted = (AIC, BIC) if compare else (method,)
        selections.update(information_criteria(z, y, lists, methods=wanted, max_order=max_order))
    observed = table.observed
    choices = {
        name: _model_estimate(selection, lists, observed, level)
        for name, selection in selections.items()
    }
    chosen = choices[method]
    summary: BootstrapSummary | None = None
    if bootstrap > 0:
        summary = _bootstrap(
            z, y, lists, selections[method], chosen.total,
            threshold=threshold, max_order=max_order, replications=bootstrap, seed=seed,
            level=level, progress=progress,
        )  # fmt: skip
    comparison = tuple(choices[name] for name in METHODS if name in choices)
    list_sizes = tuple(int(n) for n in y @ z)
    result = Estimate(
        lists=lists,
        list_sizes=list_sizes,
        observed=observed,
        method=method,
        threshold=threshold,
        max_order=max_order,
        level=level,
        model=chosen,
        comparison=comparison,
        bootstrap=summary,
    )
    return dataclasses.replace(result, warnings=tuple(_warnings(result, z, y)))


def _refuse_degenerate_lists(z: np.ndarray, y: np.ndarray, lists: Sequence[str]) -> None:
    """Plain reasons for the commonest tables on which no model can be used (the checks
    would refuse them too, in general words)."""
    observed = y.sum()
    for k, name in enumerate(lists):
        on_list = y @ z[:, k]
        if on_list == 0:
            raise NoModel(
                Message(
                    "empty_list",
                    _(
                        "Nobody in the table is on list %(list)s, so it says nothing about the "
                        "others. Leave the list out."
                    ),
                    {"list": name},
                )
            )
        if on_list == observed:
            raise NoModel(
                Message(
                    "list_holds_everyone",
                    _(
                        "Everybody in the table is on list %(list)s, so nothing shows how many "
                        "people that list misses, and the number of unseen people cannot be "
                        "estimated."
                    ),
                    {"list": name},
                )
            )
    for i, j in itertools.combinations(range(len(lists)), 2):
        if (y @ (z[:, i] != z[:, j])) == 0:
            raise NoModel(
                Message(
                    "identical_lists",
                    _(
                        "Lists %(first)s and %(second)s hold exactly the same people, so they "
                        "count as one list. Combine them into one column."
                    ),
                    {"first": lists[i], "second": lists[j]},
                )
            )
    if len(lists) == 2 and y[2] == 0:  # cell 3 (code 0b11): on both lists
        raise NoModel(
            Message(
                "two_lists_no_overlap",
                _(
                    "The two lists have nobody in common, so nothing links them and the number "
                    "of unseen people cannot be estimated (it would be infinite)."
                ),
            )
        )


def _model_estimate(
    selection: Selection, lists: Sequence[str], observed: int, level: float
) -> ModelEstimate:
    fit = selection.fit
    design = fit.design
    # Normal on the log scale of the unseen (delta method: the intercept is that log, and
    # its variance comes from the fitted covariance), as SparseMSE's estimatepopulation.0.
    spread = float(norm.ppf(0.5 + level / 2.0)) * fit.se_log_unseen
    interval = Interval(
        lower=observed + math.exp(fit.log_unseen - spread),
        upper=observed + math.exp(fit.log_unseen + spread),
        level=level,
    )
    return ModelEstimate(
        method=selection.method,
        search=selection.search,
        interactions=tuple(tuple(lists[i] for i in term) for term in design.fitted_terms),
        no_overlap=tuple(tuple(lists[i] for i in term) for term in design.empty_terms),
        words=describe(design, lists),
        total=observed + fit.unseen,
        unseen=fit.unseen,
        interval=interval,
        log_unseen=fit.log_unseen,
        se_log_unseen=fit.se_log_unseen,
        deviance=fit.deviance,
        df=fit.df,
        aic=fit.aic,
        bic=fit.bic(observed),
        considered=selection.considered,
        refused=selection.refused,
        steps=tuple((tuple(lists[i] for i in step.term), step.p_value) for step in selection.steps),
    )


def _bootstrap(
    z: np.ndarray,
    y: np.ndarray,
    lists: Sequence[str],
    selection: Selection,
    point: float,
    *,
    threshold: float,
    max_order: int,
    replications: int,
    seed: int,
    level: float,
    progress: boot.Progress | None,
) -> BootstrapSummary:
    method = selection.method
    searched: Sequence[Model] | None = None
    if method != STEPWISE:
        searched = selection.ranking[:BOOTSTRAP_MODELS]

    def estimator(counts: np.ndarray) -> float | None:
        try:
            if method == STEPWISE:
                choice = stepwise(z, counts, lists, threshold)
            else:
                choice = information_criteria(
                    z, counts, lists, methods=(method,), max_order=max_order,
                    restrict_to=searched,
                )[method]  # fmt: skip
        except NoModel:
            return None
        return float(counts.sum() + choice.fit.unseen)

    result = boot.bca_bootstrap(
        y, point, estimator, replications=replications, seed=seed, level=level,
        progress=progress,
    )  # fmt: skip
    interval = None
    if result.lower is not None and result.upper is not None:
        interval = Interval(result.lower, result.upper, level)
    return BootstrapSummary(
        replications=replications,
        seed=seed,
        failed=result.failed,
        jackknife_failed=result.jackknife_failed,
        bias_correction=result.bias_correction,
        acceleration=result.acceleration,
        interval=interval,
        searched_models=len(searched) if searched is not None else None,
    )


def _names(pairs: Sequence[tuple[int, int]], lists: Sequence[str]) -> str:
    return ", ".join(term_name(pair, lists) for pair in pairs)


def _warnings(result: Estimate, z: np.ndarray, y: np.ndarray) -> list[Message]:
    lists = result.lists
    notes: list[Message] = []
    if len(lists) == 2:
        notes.append(
            Message(
                "two_lists",
                _(
                    "With two lists the estimate has to assume that being on one list does not "
                    "change the chance of being on the other; the data cannot check that."
                ),
            )
        )
    pairs = list(itertools.combinations(range(len(lists)), 2))
    shared = {pair: int(y @ (z[:, pair[0]] * z[:, pair[1]])) for pair in pairs}
    empty = [pair for pair in pairs if shared[pair] == 0]
    sparse = [pair for pair in pairs if 0 < shared[pair] < SPARSE_OVERLAP]
    if empty:
        notes.append(
            Message(
                "no_overlap",
                _(
                    "Nobody is on both lists of %(pairs)s. The method allows for that, but "
                    "the estimate then leans more on the model."
                ),
                {"pairs": _names(empty, lists)},
            )
        )
    if sparse:
        notes.append(
            Message(
                "sparse_overlap",
                _(
                    "Fewer than %(min)s people are on both lists of %(pairs)s: what the "
                    "estimate learns from those pairs rests on very few people."
                ),
                {"min": SPARSE_OVERLAP, "pairs": _names(sparse, lists)},
            )
        )
    small = [name for name, size in zip(lists, result.list_sizes, strict=True) if size < SMALL_LIST]
    if small:
        notes.append(
            Message(
                "small_lists",
                _("Fewer than %(min)s people are on %(lists)s."),
                {"min": SMALL_LIST, "lists": ", ".join(small)},
            )
        )
    model = result.model
    if model.refused:
        notes.append(
            Message(
                "models_refused",
                _(
                    "%(count)s candidate model(s) were skipped because their estimate does not "
                    "exist or is not identifiable with these counts."
                ),
                {"count": model.refused},
            )
        )
    if model.df == 0:
        notes.append(
            Message(
                "saturated",
                _(
                    "The chosen model fits the counts exactly (no degrees of freedom are left), "
                    "so nothing in the data checks it."
                ),
            )
        )
    if any(choice.search == "greedy" for choice in result.comparison):
        notes.append(
            Message(
                "greedy_search",
                _(
                    "There are too many models to try every one, so AIC and BIC were chosen by "
                    "adding or removing one interaction at a time; that may miss the best model."
                ),
            )
        )
    totals = [choice.total for choice in result.comparison]
    if len(totals) > 1 and max(totals) > DISAGREEMENT * min(totals):
        notes.append(
            Message(
                "methods_disagree",
                _(
                    "The ways of choosing a model disagree: their estimates run from %(low)s "
                    "to %(high)s. The choice of model matters more than any one interval shows."
                ),
                {"low": round(min(totals)), "high": round(max(totals))},
            )
        )
    summary = result.bootstrap
    if summary is not None:
        if summary.failed:
            notes.append(
                Message(
                    "bootstrap_failed",
                    _(
                        "%(failed)s of %(replications)s bootstrap replicates could not be "
                        "estimated and were left out of the interval."
                    ),
                    {"failed": summary.failed, "replications": summary.replications},
                )
            )
        if summary.interval is None:
            notes.append(
                Message(
                    "bootstrap_no_interval",
                    _(
                        "The bootstrap interval could not be computed: the replicates all fell "
                        "on one side of the estimate. Use the model's interval, with care."
                    ),
                )
            )
    return notes
