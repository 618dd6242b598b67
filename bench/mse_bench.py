"""Multiple systems estimation timings: prints figures for docs/performance.md (not a test).

1. A synthetic table of 10 lists (all 1,023 patterns), drawn from a known log-linear model
   with a fixed seed, estimated with the stepwise method (target: under 5 seconds).
2. The same table with AIC and BIC side by side (a greedy search: 2^45 models is too many).
3. The bootstrap on the UK 5-list table: seconds per replicate (each replicate repeats the
   whole stepwise choice), and what 1,000 replicates therefore take.

Run: ``.venv/bin/python bench/mse_bench.py`` (from the repository root).
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import statsmodels

from haven.estimation.mse import estimate
from haven.estimation.table import CaptureTable, parse_csv

ROOT = Path(__file__).resolve().parents[1]
UK5 = ROOT / "haven" / "estimation" / "tests" / "data" / "uk_2013_5lists.csv"

LISTS = 10
POPULATION = 10_000
SEED = 2026
# Chance of being on each list, and the pairs of lists that share more (or fewer) people
# than chance would give, as log odds ratios: the known model the table is drawn from.
CAPTURE = np.linspace(0.04, 0.30, LISTS)
INTERACTIONS = {(0, 1): 1.0, (2, 3): 0.8, (4, 7): -0.7, (5, 9): 1.2, (1, 6): 0.6}


def synthetic_table() -> tuple[CaptureTable, float]:
    """The seeded 10-list table and the true expected number of unseen people."""
    rng = np.random.default_rng(SEED)
    codes = np.arange(1, 2**LISTS)
    z = ((codes[:, None] >> np.arange(LISTS)) & 1).astype(float)
    unseen = POPULATION * float(np.prod(1 - CAPTURE))
    log_odds = np.log(CAPTURE / (1 - CAPTURE))
    eta = math_log(unseen) + z @ log_odds
    for (i, j), effect in INTERACTIONS.items():
        eta += effect * z[:, i] * z[:, j]
    counts = rng.poisson(np.exp(eta))
    patterns = tuple(tuple(int(v) for v in row) for row in z)
    table = CaptureTable(
        tuple(f"L{k + 1}" for k in range(LISTS)), patterns, tuple(int(c) for c in counts)
    )
    return table, unseen


def math_log(value: float) -> float:
    return float(np.log(value))


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def timed(function, repeat: int = 1):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, times


def main() -> None:
    print("Machine:", platform.machine(), f"{os.cpu_count()} cores,", cpu_model())
    print(
        f"Python {sys.version.split()[0]}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"statsmodels {statsmodels.__version__}"
    )
    with contextlib.suppress(OSError):
        print("Load average:", ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print()

    table, true_unseen = synthetic_table()
    csv_text = table.to_csv()
    print(
        f"Synthetic table: {LISTS} lists, {len(table.patterns)} patterns "
        f"({sum(1 for c in table.counts if c)} with people), {table.observed} people seen; "
        f"true unseen (expected) {true_unseen:.0f}"
    )
    result, times = timed(
        lambda: estimate(parse_csv(csv_text), method="stepwise", compare=False, bootstrap=0),
        repeat=5,
    )
    print(
        f"Stepwise (read CSV + choose + fit), 5 runs: median {statistics.median(times):.2f} s, "
        f"best {min(times):.2f} s, worst {max(times):.2f} s  (target < 5 s)"
    )
    print(
        f"  estimate {result.total:.0f} (unseen {result.unseen:.0f}); model: {result.model.words}"
    )
    result, times = timed(lambda: estimate(table, compare=True, bootstrap=0))
    aic = next(c for c in result.comparison if c.method == "aic")
    print(
        f"Stepwise with AIC and BIC side by side ({aic.search} search, "
        f"{aic.considered} models): {times[0]:.2f} s"
    )
    for choice in result.comparison:
        print(f"  {choice.method}: {choice.total:.0f}; {choice.words}")
    print()

    uk = parse_csv(UK5.read_text())
    replications = 100
    steps = replications + sum(1 for c in uk.counts if c)
    result, times = timed(lambda: estimate(uk, compare=False, bootstrap=replications, seed=1))
    per = times[0] / steps
    print(
        f"UK 5 lists bootstrap: {replications} replicates + {steps - replications} jackknife "
        f"estimates in {times[0]:.2f} s = {per * 1000:.0f} ms each; 1,000 replicates "
        f"about {per * (1000 + steps - replications):.0f} s"
    )
    assert result.bootstrap is not None and result.bootstrap.interval is not None
    interval = result.bootstrap.interval
    print(f"  estimate {result.total:.0f}, BCa 95% {interval.lower:.0f} to {interval.upper:.0f}")


if __name__ == "__main__":
    main()
