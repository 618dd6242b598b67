"""The BCa bootstrap interval of SparseMSE's ``estimatepopulation``. Plain Python, no Django.

The model choice is part of the estimate, so every replicate repeats it: resample the
people seen (a multinomial draw of the same total over the observed patterns, with the
observed shares as probabilities), choose and fit the model again, and keep the estimated
total. The interval is the bias-corrected and accelerated (BCa) percentile interval of
those totals (DiCiccio & Efron 1996): the bias correction from the share of replicates
below the estimate, the acceleration from a jackknife that removes one person of each
observed pattern in turn, each result weighted by the number of people with that pattern.

Seeded with NumPy's PCG64 generator: the same table, seed and number of replications give
the same interval on every machine with the same library versions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

# The estimated total of one resampled table, or None when no model can be used on it.
Estimator = Callable[[np.ndarray], float | None]
# Told (done, total) after every replicate and every jackknife estimate.
Progress = Callable[[int, int], None]

REPLICATIONS = 1000
SEED = 1234  # SparseMSE's default seed (R's generator differs, so the draws do too)


@dataclass(frozen=True)
class BootstrapResult:
    """The BCa interval (``None`` when it cannot be computed) and what it rests on.

    ``estimates`` holds the totals of the replicates that could be estimated; ``failed``
    counts the others (left out). ``bias_correction`` is z0 and ``acceleration`` is a.
    """

    replications: int
    seed: int
    level: float
    estimates: np.ndarray
    failed: int
    jackknife_failed: int
    bias_correction: float
    acceleration: float
    lower: float | None
    upper: float | None


def resample(y: np.ndarray, replications: int, seed: int) -> np.ndarray:
    """``replications`` multinomial resamples of the people in ``y`` (one row each)."""
    generator = np.random.Generator(np.random.PCG64(seed))
    total = round(float(y.sum()))
    return generator.multinomial(total, y / y.sum(), size=replications).astype(float)


def acceleration(y: np.ndarray, jackknife: np.ndarray) -> float:
    """Efron's jackknife acceleration, each leave-one-out estimate weighted by its count.

    ``jackknife[c]`` is the estimate with one person fewer in cell ``c`` (cells with
    ``y[c] > 0`` only). Zero when every leave-one-out estimate is the same.
    """
    weights = y[y > 0]
    residuals = np.average(jackknife, weights=weights) - jackknife
    spread = float(np.sum(weights * residuals**2))
    if spread <= 0.0:
        return 0.0
    return float(np.sum(weights * residuals**3) / (6.0 * spread**1.5))


def bca_limits(
    estimates: np.ndarray, point: float, accel: float, level: float
) -> tuple[float, float | None, float | None]:
    """``(z0, lower, upper)``; the limits are ``None`` when every replicate lies on one side
    of the point estimate (z0 is then infinite and BCa says nothing).

    Quantiles as R's ``quantile(type = 8)``, which SparseMSE uses (NumPy's median_unbiased).
    """
    below = float(np.mean(estimates < point))
    if below <= 0.0 or below >= 1.0:
        return (math.copysign(math.inf, below - 0.5), None, None)
    z0 = float(norm.ppf(below))
    tail = (1.0 - level) / 2.0
    limits: list[float] = []
    for alpha in (tail, 1.0 - tail):
        za = float(norm.ppf(alpha)) + z0
        adjusted = float(norm.cdf(z0 + za / (1.0 - accel * za)))
        limits.append(float(np.quantile(estimates, adjusted, method="median_unbiased")))
    return z0, limits[0], limits[1]


def bca_bootstrap(
    y: np.ndarray,
    point: float,
    estimator: Estimator,
    *,
    replications: int = REPLICATIONS,
    seed: int = SEED,
    level: float = 0.95,
    progress: Progress | None = None,
) -> BootstrapResult:
    """The BCa interval of the total for counts ``y`` whose estimate is ``point``.

    ``estimator`` must repeat the whole estimate, model choice included, on a table of
    counts; it is called ``replications`` times plus once per observed pattern.
    """
    draws = resample(y, replications, seed)
    observed = np.flatnonzero(y > 0)
    total_steps = replications + len(observed)
    done = 0
    estimates: list[float] = []
    for draw in draws:
        value = estimator(draw)
        if value is not None:
            estimates.append(value)
        done += 1
        if progress is not None:
            progress(done, total_steps)
    jackknife = np.empty(len(observed))
    jackknife_failed = 0
    for i, cell in enumerate(observed):
        fewer = y.copy()
        fewer[cell] -= 1
        value = estimator(fewer)
        if value is None:
            jackknife_failed += 1
            value = point
        jackknife[i] = value
        done += 1
        if progress is not None:
            progress(done, total_steps)
    # A leave-one-out table that cannot be estimated at all is rare (a list with one person
    # on it); it then contributes no spread, which shrinks the acceleration towards 0.
    accel = acceleration(y, jackknife)
    values = np.asarray(estimates, dtype=float)
    if len(values) == 0:
        return BootstrapResult(
            replications,
            seed,
            level,
            values,
            replications,
            jackknife_failed,
            math.nan,
            accel,
            None,
            None,
        )
    z0, lower, upper = bca_limits(values, point, accel, level)
    return BootstrapResult(
        replications=replications,
        seed=seed,
        level=level,
        estimates=values,
        failed=replications - len(values),
        jackknife_failed=jackknife_failed,
        bias_correction=z0,
        acceleration=accel,
        lower=lower,
        upper=upper,
    )
