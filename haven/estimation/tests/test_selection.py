"""Model choice: SparseMSE's stepwise method on the reference tables, and AIC/BIC."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import poisson

from haven.estimation.loglinear import build_design, check_design, fit_design
from haven.estimation.selection import (
    AIC,
    BIC,
    NoModel,
    all_models,
    information_criteria,
    main_effects,
    stepwise,
)
from haven.estimation.table import CaptureTable, parse_csv

DATA = Path(__file__).parent / "data"


def table(name: str) -> CaptureTable:
    return parse_csv((DATA / name).read_text())


def stepwise_total(name: str, threshold: float = 0.02) -> float:
    t = table(name)
    z, y = t.cells()
    return t.observed + stepwise(z, y, t.lists, threshold).fit.unseen


def test_korea_reproduces_the_package_figure() -> None:
    """MultipleSystemsEstimation's user guide: stepwise with p = 0.02 gives 268.78."""
    total = stepwise_total("korea_3lists.csv")
    assert abs(total - 268.78) / 268.78 < 0.005
    assert round(total, 2) == 268.78


def test_uk_five_lists_reproduces_sparsemse() -> None:
    """SparseMSE's stepwisefit on UKdat_5 gives about 11,300 (here 11,313), inside the Home
    Office's published 10,000 to 13,000."""
    total = stepwise_total("uk_2013_5lists.csv")
    assert abs(total - 11_300) / 11_300 < 0.005
    assert round(total) == 11_313
    assert 10_000 <= total <= 13_000


def test_uk_five_lists_model_and_order_of_steps() -> None:
    """The pairs enter in order of their Poisson p-value, each below 0.02."""
    t = table("uk_2013_5lists.csv")
    z, y = t.cells()
    selection = stepwise(z, y, t.lists)
    names = [tuple(t.lists[i] for i in step.term) for step in selection.steps]
    assert names == [
        ("LA", "NG"),
        ("NG", "GP"),
        ("PFNCA", "GP"),
        ("LA", "PFNCA"),
        ("GO", "GP"),
        ("NG", "GO"),
    ]
    p_values = [step.p_value for step in selection.steps]
    assert all(p < 0.02 for p in p_values)


def test_uk_six_lists_inside_the_published_range() -> None:
    """The six original lists (the published estimate's basis) also land in 10,000-13,000."""
    assert 10_000 <= stepwise_total("uk_2013_6lists.csv") <= 13_000


def test_threshold_zero_keeps_main_effects() -> None:
    t = table("korea_3lists.csv")
    z, y = t.cells()
    selection = stepwise(z, y, t.lists, threshold=0.0)
    assert selection.steps == ()
    assert selection.fit.design.terms == ()


def test_a_candidate_failing_the_check_is_skipped() -> None:
    """The pair with the smallest p-value is refused when its estimate would not exist, and
    the next pair below the threshold is taken instead (as SparseMSE's checkident)."""
    t = parse_csv("A,B,C,count\n1,0,0,5\n0,1,0,30\n1,1,0,1\n1,0,1,40\n0,1,1,1\n1,1,1,1\n")
    z, y = t.cells()
    fit = main_effects(z, y, t.lists)
    expected = np.zeros(len(y))
    expected[fit.design.keep] = fit.fitted

    def p_value(i: int, j: int) -> float:
        both = (z[:, i] * z[:, j]).astype(bool)
        n, mean = y[both].sum(), expected[both].sum()
        return float(min(poisson.cdf(n, mean), poisson.sf(n - 1, mean)))

    assert p_value(0, 1) < p_value(0, 2) < 0.02
    assert not check_design(build_design(z, y, [(0, 1)])).exists
    selection = stepwise(z, y, t.lists)
    assert [step.term for step in selection.steps] == [(0, 2)]
    assert selection.refused == 1


def test_a_pair_nobody_shares_is_a_candidate() -> None:
    """Two large lists with nobody in common: their pair enters as "nobody in common"."""
    t = parse_csv("A,B,C,count\n1,0,0,100\n0,1,0,100\n0,0,1,20\n1,0,1,30\n0,1,1,30\n")
    z, y = t.cells()
    selection = stepwise(z, y, t.lists)
    assert selection.steps[0].term == (0, 1)
    assert selection.fit.design.empty_terms == ((0, 1),)


def test_main_effects_that_cannot_be_fitted_refuse_the_table() -> None:
    """Two lists with nobody in common: Lincoln-Petersen would be infinite."""
    t = parse_csv("A,B,count\n1,0,10\n0,1,12\n")
    z, y = t.cells()
    with pytest.raises(NoModel) as caught:
        stepwise(z, y, t.lists)
    assert caught.value.message.code == "model_not_exist"


@pytest.mark.parametrize(
    ("lists", "order", "count"),
    [(3, 1, 1), (3, 2, 8), (3, 3, 9), (4, 2, 64), (5, 2, 1024), (6, 2, None)],
)
def test_all_models_counts_hierarchical_models(lists: int, order: int, count: int | None) -> None:
    """Order 2: every set of pairs; order 3 adds a triple only with its three pairs; more
    than 1,024 models is too many to try them all."""
    models = all_models(lists, order)
    assert (None if models is None else len(models)) == count


def test_aic_and_bic_pick_the_smallest_criterion_of_all_usable_models() -> None:
    """Checked against fitting every model of Korea by hand."""
    t = table("korea_3lists.csv")
    z, y = t.cells()
    chosen = information_criteria(z, y, t.lists)
    models = all_models(3, 2)
    assert models is not None
    usable = []
    for model in models:
        design = build_design(z, y, model)
        if check_design(design).ok:
            usable.append(fit_design(design))
    assert chosen[AIC].search == "exhaustive"
    assert math.isclose(chosen[AIC].fit.aic, min(fit.aic for fit in usable))
    assert math.isclose(chosen[BIC].fit.bic(123), min(fit.bic(123) for fit in usable))
    assert chosen[AIC].refused == len(models) - len(usable)


def test_uk_five_lists_aic_and_bic() -> None:
    """Every one of the 1,024 models is tried; AIC stays near the stepwise figure, BIC
    chooses a model with a much larger estimate (the reason to show them side by side)."""
    t = table("uk_2013_5lists.csv")
    z, y = t.cells()
    chosen = information_criteria(z, y, t.lists)
    assert chosen[AIC].considered == 1024
    assert 10_000 < t.observed + chosen[AIC].fit.unseen < 13_000
    assert t.observed + chosen[BIC].fit.unseen > 15_000


def test_too_many_models_falls_back_to_a_greedy_search() -> None:
    """Above the limit the search adds or removes one term at a time, and says so."""
    t = table("korea_3lists.csv")
    z, y = t.cells()
    greedy = information_criteria(z, y, t.lists, limit=4)
    assert greedy[AIC].search == "greedy"
    exhaustive = information_criteria(z, y, t.lists)
    assert math.isclose(greedy[AIC].fit.aic, exhaustive[AIC].fit.aic)


def test_a_restricted_search_only_tries_the_given_models() -> None:
    t = table("korea_3lists.csv")
    z, y = t.cells()
    chosen = information_criteria(z, y, t.lists, restrict_to=[(), ((0, 1),)], methods=[AIC])
    assert chosen[AIC].search == "restricted"
    assert chosen[AIC].fit.design.terms == ((0, 1),)
