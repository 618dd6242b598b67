"""The whole estimate: figures, intervals, refusals, warnings, JSON and text."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from scipy.stats import norm

from haven.estimation.loglinear import TIMES
from haven.estimation.mse import Estimate, NoModel, estimate
from haven.estimation.render import render_problem, render_refusal, render_text
from haven.estimation.table import CaptureTable, TableError, parse_csv

X = TIMES  # between the names of an interaction's lists
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def korea() -> CaptureTable:
    return parse_csv((DATA / "korea_3lists.csv").read_text())


@pytest.fixture(scope="module")
def uk5() -> CaptureTable:
    return parse_csv((DATA / "uk_2013_5lists.csv").read_text())


@pytest.fixture(scope="module")
def korea_boot(korea: CaptureTable) -> Estimate:
    return estimate(korea, bootstrap=100, seed=7)


def test_korea_figures(korea: CaptureTable) -> None:
    """Total, unseen, share seen and "about one in N" from the stepwise model."""
    result = estimate(korea, bootstrap=0)
    assert round(result.total, 2) == 268.78
    assert math.isclose(result.unseen, result.total - 123)
    assert math.isclose(result.share_seen, 123 / result.total)
    assert result.one_in == 2
    assert str(result.seen_sentence) == "about one in 2 victims is seen"
    assert str(result.model.words) == f"main effects plus b{X}c"
    assert result.model.interactions == (("b", "c"),)
    assert result.list_sizes == (77, 71, 59)


def test_uk_figures_and_one_in_four(uk5: CaptureTable) -> None:
    result = estimate(uk5, bootstrap=0, compare=False)
    assert round(result.total) == 11_313
    assert result.one_in == 4
    assert [choice.method for choice in result.comparison] == ["stepwise"]


def test_model_interval_is_normal_on_the_log_of_the_unseen(korea: CaptureTable) -> None:
    """Delta method: observed + exp(log unseen ± z·se), the se from the fitted covariance."""
    model = estimate(korea, bootstrap=0, level=0.9).model
    z = norm.ppf(0.95)
    assert math.isclose(
        model.interval.lower, 123 + math.exp(model.log_unseen - z * model.se_log_unseen)
    )
    assert math.isclose(
        model.interval.upper, 123 + math.exp(model.log_unseen + z * model.se_log_unseen)
    )
    assert model.interval.level == 0.9


def test_side_by_side_comparison(korea: CaptureTable) -> None:
    """Stepwise, AIC and BIC are all reported; the method chooses the headline."""
    result = estimate(korea, bootstrap=0, method="aic")
    assert [choice.method for choice in result.comparison] == ["stepwise", "aic", "bic"]
    assert result.model.method == "aic"
    assert result.model.search == "exhaustive"
    assert result.model is result.comparison[1]
    codes = [warning.code for warning in result.warnings]
    assert "methods_disagree" in codes  # 269 by stepwise, 157 by AIC


def test_bca_interval_is_reproducible_with_a_seed(
    korea: CaptureTable, korea_boot: Estimate
) -> None:
    """Same seed, same interval; another seed, another interval; the estimate is inside."""
    again = estimate(korea, bootstrap=100, seed=7, compare=False)
    other = estimate(korea, bootstrap=100, seed=8, compare=False)
    assert korea_boot.bootstrap is not None and again.bootstrap is not None
    assert other.bootstrap is not None
    assert korea_boot.bootstrap.interval == again.bootstrap.interval
    assert korea_boot.bootstrap.interval != other.bootstrap.interval
    interval = korea_boot.bootstrap.interval
    assert interval is not None
    assert interval.lower <= korea_boot.total <= interval.upper
    assert korea_boot.interval == interval  # the BCa interval is the one to quote
    assert korea_boot.bootstrap.replications == 100
    assert korea_boot.bootstrap.failed == 0


def test_bootstrap_progress(korea: CaptureTable) -> None:
    """The callback hears of every replicate and every jackknife estimate (6 patterns)."""
    seen: list[tuple[int, int]] = []
    estimate(korea, bootstrap=20, compare=False, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (1, 26)
    assert seen[-1] == (26, 26)


def test_bootstrap_of_an_aic_choice_searches_the_best_models(korea: CaptureTable) -> None:
    result = estimate(korea, method="bic", bootstrap=30, compare=False)
    assert result.bootstrap is not None
    assert result.bootstrap.searched_models == 6  # Korea has 6 usable models, fewer than 20


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("A,B,C,count\n1,0,0,4\n0,1,0,5\n1,1,0,3\n", "empty_list"),
        ("A,B,C,count\n1,0,0,4\n1,1,0,5\n1,0,1,3\n1,1,1,2\n", "list_holds_everyone"),
        ("A,B,C,count\n1,1,0,4\n0,0,1,5\n1,1,1,3\n", "identical_lists"),
        ("A,B,count\n1,0,10\n0,1,12\n", "two_lists_no_overlap"),
    ],
)
def test_tables_without_an_estimate_are_refused_in_plain_words(text: str, code: str) -> None:
    with pytest.raises(NoModel) as caught:
        estimate(parse_csv(text), bootstrap=0)
    assert caught.value.message.code == code
    assert render_refusal(caught.value.message).startswith("No estimate: ")


def test_warnings_on_sparse_overlaps(uk5: CaptureTable) -> None:
    """UK: LA and GP share nobody, NG and GP only one person."""
    result = estimate(uk5, bootstrap=0, compare=False)
    by_code = {warning.code: warning for warning in result.warnings}
    assert by_code["no_overlap"].params["pairs"] == f"LA{X}GP"
    assert by_code["sparse_overlap"].params["pairs"] == f"NG{X}GP"


def test_two_lists_warn_that_independence_cannot_be_checked() -> None:
    result = estimate(parse_csv("A,B,count\n1,0,30\n0,1,20\n1,1,10\n"), bootstrap=0)
    assert math.isclose(result.total, 30 + 20 + 10 + 30 * 20 / 10)  # Lincoln-Petersen
    codes = {warning.code for warning in result.warnings}
    assert {"two_lists", "saturated"} <= codes


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "bayes"},
        {"threshold": 1.0},
        {"threshold": -0.1},
        {"max_order": 4},
        {"bootstrap": -1},
        {"level": 1.0},
    ],
)
def test_arguments_out_of_range(korea: CaptureTable, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        estimate(korea, **kwargs)  # type: ignore[arg-type]


def test_json_shape_and_round_trip(korea_boot: Estimate) -> None:
    """Plain JSON (no NaN, no NumPy types) that reads back into the same estimate."""
    text = json.dumps(korea_boot.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert data["format"] == "haven-mse" and data["version"] == 1
    assert set(data) >= {
        "lists", "observed", "method", "total", "unseen", "share_seen", "one_in",
        "seen_sentence", "model", "comparison", "bootstrap", "warnings", "level",
    }  # fmt: skip
    assert data["lists"] == ["b", "c", "d"]
    assert data["seen_sentence"]["text"] == "about one in 2 victims is seen"
    assert data["model"]["words"]["text"] == f"main effects plus b{X}c"
    assert data["model"]["interval"]["level"] == 0.95
    assert data["model"]["steps"][0]["term"] == ["b", "c"]
    assert set(data["bootstrap"]) >= {"replications", "seed", "interval", "acceleration"}
    for warning in data["warnings"]:
        assert set(warning) == {"code", "message", "params", "text"}
    again = Estimate.from_dict(data)
    assert again == korea_boot
    assert again.to_dict() == data


def test_text_shows_the_figures_and_translates_every_sentence(korea_boot: Estimate) -> None:
    text = render_text(korea_boot)
    assert "Estimated total: 269" in text
    assert "about one in 2 victims is seen" in text
    assert f"main effects plus b{X}c" in text
    assert "BCa bootstrap interval" in text
    marked = render_text(korea_boot, translate=lambda template: f"<{template}>")
    assert "<Estimated total: 269>" in marked
    assert "<about one in 2 victims is seen>" in marked
    assert f"<main effects plus b{X}c>" in marked
    assert "<Warnings:>" in marked


def test_problems_are_rendered_with_their_line() -> None:
    with pytest.raises(TableError) as caught:
        parse_csv("A,B,count\n1,2,3\n")
    assert render_problem(caught.value.problems[0]).startswith("Line 2, column B: ")


def test_the_computation_does_not_import_django() -> None:
    """The pure modules stay free of Django (the command and the page are thin layers)."""
    code = (
        "import sys, haven.estimation.mse, haven.estimation.render;"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
