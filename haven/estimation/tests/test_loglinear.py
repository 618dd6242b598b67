"""Designs, the existence and identifiability checks, and fitting."""

from __future__ import annotations

import math

import numpy as np
import statsmodels.api as sm

from haven.estimation.loglinear import (
    TIMES,
    build_design,
    check_design,
    describe,
    estimate_exists,
    fit_design,
    refusal,
)
from haven.estimation.table import parse_csv

# Nobody is on C alone. Main effects can be fitted, but with an A-B interaction the likelihood keeps
# rising as the intercept goes to minus infinity: no estimate exists (Fienberg & Rinaldo).
X = TIMES  # between the names of an interaction's lists
NO_C_ALONE = "A,B,C,count\n1,0,0,10\n0,1,0,12\n1,1,0,5\n1,0,1,4\n0,1,1,3\n1,1,1,2\n"
# Nobody is on both A and B.
NO_AB = "A,B,C,count\n1,0,0,10\n0,1,0,12\n0,0,1,7\n1,0,1,4\n0,1,1,3\n"
AB, AC, BC = (0, 1), (0, 2), (1, 2)


def cells(text: str) -> tuple[np.ndarray, np.ndarray]:
    return parse_csv(text).cells()


def test_a_term_nobody_shares_leaves_out_its_cells() -> None:
    """As SparseMSE: no column for it, and every cell holding both lists is left out."""
    z, y = cells(NO_AB)
    design = build_design(z, y, [AB, AC])
    assert design.fitted_terms == (AC,)
    assert design.empty_terms == (AB,)
    assert design.keep.sum() == 5  # 7 cells less 110 and 111
    assert not (z[design.keep][:, 0] * z[design.keep][:, 1]).any()
    assert design.x.shape == (5, 1 + 3 + 1)
    assert design.parameters == 6  # the left-out term still counts for AIC/BIC


def test_existence_linear_program() -> None:
    """The estimate exists exactly when a positive table has the observed margins."""
    z, y = cells(NO_C_ALONE)
    assert check_design(build_design(z, y, ())).ok
    assert not check_design(build_design(z, y, [AB])).exists
    assert check_design(build_design(z, y, [AC])).ok
    assert check_design(build_design(z, y, [BC])).ok


def test_the_linear_program_agrees_with_the_fit_diverging() -> None:
    """Where the check says "does not exist", an unchecked GLM drifts off: its intercept is
    far below any sensible value (the unseen number it would report is meaningless)."""
    z, y = cells(NO_C_ALONE)
    design = build_design(z, y, [AB])
    result = sm.GLM(design.y, design.x, family=sm.families.Poisson()).fit(maxiter=200)
    assert result.params[0] < -10


def test_a_positive_table_needs_no_linear_program() -> None:
    x = np.array([[1.0, 1.0], [1.0, 0.0]])
    assert estimate_exists(x, np.array([3.0, 4.0]))


def test_identifiability_is_a_rank_check() -> None:
    """All three pairs with nobody on both A and B: 5 cells, 6 parameters, so not identifiable."""
    z, y = cells(NO_AB)
    check = check_design(build_design(z, y, [AB, AC, BC]))
    assert not check.identifiable
    # The same model where A and B do overlap is saturated but identifiable.
    z, y = cells(NO_C_ALONE + "0,0,1,6\n")
    assert check_design(build_design(z, y, [AB, AC, BC])).identifiable


def test_refusals_say_why_in_plain_words() -> None:
    z, y = cells(NO_C_ALONE)
    design = build_design(z, y, [AB])
    message = refusal(check_design(design), design, ("A", "B", "C"))
    assert message.code == "model_not_exist"
    assert f"main effects plus A{X}B" in str(message)
    assert "does not exist" in str(message)
    z, y = cells(NO_AB)
    design = build_design(z, y, [AB, AC, BC])
    message = refusal(check_design(design), design, ("A", "B", "C"))
    assert message.code == "model_not_identifiable"


def test_fit_reports_the_unseen_and_its_standard_error() -> None:
    """Korea with the b-c interaction: exp(intercept) is the unseen, and the total is
    SparseMSE's 268.78."""
    z, y = cells("b,c,d,count\n0,0,1,41\n0,1,0,5\n1,0,0,5\n1,1,0,54\n1,0,1,6\n0,1,1,0\n1,1,1,12\n")
    fit = fit_design(build_design(z, y, [(0, 1)]))
    assert math.isclose(123 + fit.unseen, 268.78, rel_tol=1e-4)
    assert fit.se_log_unseen > 0
    assert fit.df == 7 - 5
    assert math.isclose(fit.aic, -2 * fit.loglik + 2 * 5)
    assert math.isclose(fit.bic(123), -2 * fit.loglik + math.log(123) * 5)


def test_model_in_words() -> None:
    z, y = cells(NO_AB)
    lists = ("A", "B", "C")
    assert str(describe(build_design(z, y, ()), lists)) == "main effects only"
    assert str(describe(build_design(z, y, [AC]), lists)) == f"main effects plus A{X}C"
    both = describe(build_design(z, y, [AC, BC]), lists)
    assert str(both) == f"main effects plus A{X}C and B{X}C"
    assert (
        str(describe(build_design(z, y, [AB, AC]), lists))
        == f"main effects plus A{X}C; A{X}B taken to have nobody in common"
    )
