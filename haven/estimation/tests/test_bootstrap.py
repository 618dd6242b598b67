"""The BCa bootstrap: resampling, the jackknife acceleration, the limits, reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from haven.estimation.bootstrap import acceleration, bca_bootstrap, bca_limits, resample


def test_resampling_keeps_the_number_of_people_and_the_empty_patterns() -> None:
    y = np.array([5.0, 0.0, 10.0, 3.0])
    draws = resample(y, 200, seed=1)
    assert draws.shape == (200, 4)
    assert (draws.sum(axis=1) == 18).all()
    assert (draws[:, 1] == 0).all()


def test_resampling_is_seeded() -> None:
    y = np.array([5.0, 7.0, 10.0])
    assert (resample(y, 50, seed=3) == resample(y, 50, seed=3)).all()
    assert (resample(y, 50, seed=3) != resample(y, 50, seed=4)).any()


def test_acceleration_is_weighted_by_the_counts() -> None:
    """Each leave-one-out estimate counts as many times as people have that pattern."""
    y = np.array([1.0, 3.0])
    jackknife = np.array([10.0, 12.0])
    mean = (10 * 1 + 12 * 3) / 4
    residuals = mean - jackknife
    expected = np.sum(y * residuals**3) / (6 * np.sum(y * residuals**2) ** 1.5)
    assert math.isclose(acceleration(y, jackknife), expected)
    assert acceleration(y, np.array([7.0, 7.0])) == 0.0


def test_without_bias_or_acceleration_bca_is_the_percentile_interval() -> None:
    estimates = np.arange(1.0, 1002.0)  # 1..1001, median 501
    z0, lower, upper = bca_limits(estimates, 501.0, 0.0, 0.95)
    assert abs(z0) < 0.01
    assert lower is not None and upper is not None
    assert abs(lower - np.quantile(estimates, 0.025)) < 2
    assert abs(upper - np.quantile(estimates, 0.975)) < 2


def test_bias_and_acceleration_move_the_quantiles() -> None:
    """The BCa formula: the 2.5% limit is the quantile Phi(z0 + (z0+za)/(1-a(z0+za)))."""
    estimates = np.arange(1.0, 1002.0)
    z0, lower, _upper = bca_limits(estimates, 601.0, 0.1, 0.95)
    assert math.isclose(z0, norm.ppf(600 / 1001), rel_tol=1e-9)
    za = norm.ppf(0.025) + z0
    share = norm.cdf(z0 + za / (1 - 0.1 * za))
    assert lower is not None
    assert abs(lower - np.quantile(estimates, share, method="median_unbiased")) < 1e-9


def test_no_interval_when_every_replicate_is_on_one_side() -> None:
    z0, lower, upper = bca_limits(np.array([5.0, 6.0, 7.0]), 4.0, 0.0, 0.95)
    assert math.isinf(z0)
    assert lower is None and upper is None


def mean_estimator(counts: np.ndarray) -> float | None:
    """A stand-in for the estimate: cheap and sensitive to every cell."""
    return float(counts @ np.arange(1, len(counts) + 1) / counts.sum() * 100)


def test_bootstrap_reports_progress_and_is_reproducible() -> None:
    y = np.array([20.0, 5.0, 0.0, 12.0])
    point = mean_estimator(y)
    assert point is not None
    seen: list[tuple[int, int]] = []
    first = bca_bootstrap(
        y, point, mean_estimator, replications=60, seed=9,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert seen[-1] == (63, 63)  # 60 replicates and one jackknife step per observed pattern
    assert [done for done, _ in seen] == list(range(1, 64))
    again = bca_bootstrap(y, point, mean_estimator, replications=60, seed=9)
    assert (first.lower, first.upper) == (again.lower, again.upper)
    assert first.lower is not None and first.upper is not None
    assert first.lower < point < first.upper


def test_replicates_that_cannot_be_estimated_are_left_out_and_counted() -> None:
    y = np.array([20.0, 5.0, 12.0])
    calls = {"n": 0}

    def sometimes(counts: np.ndarray) -> float | None:
        calls["n"] += 1
        return None if calls["n"] % 5 == 0 else mean_estimator(counts)

    point = mean_estimator(y)
    assert point is not None
    result = bca_bootstrap(y, point, sometimes, replications=50, seed=2)
    assert result.failed == 10
    assert len(result.estimates) == 40


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_wider_level_wider_interval(level: float) -> None:
    y = np.array([20.0, 5.0, 12.0, 7.0])
    point = mean_estimator(y)
    assert point is not None
    result = bca_bootstrap(y, point, mean_estimator, replications=200, seed=5, level=level)
    narrow = bca_bootstrap(y, point, mean_estimator, replications=200, seed=5, level=0.5)
    assert result.lower is not None and result.upper is not None
    assert narrow.lower is not None and narrow.upper is not None
    assert result.upper - result.lower > narrow.upper - narrow.lower
