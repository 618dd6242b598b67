"""Disclosure control: small counts are hidden, and no hidden count can be worked out from
the totals that are published. Edge cases, and an independent audit that tries every
table consistent with what is published."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.cases import codebook
from haven.reports.disclosure import (
    DEFAULT_THRESHOLD,
    RULE_CODES,
    Line,
    ProtectedTable,
    Reason,
    Withheld,
    age_band,
    audit,
    is_small,
    protect_line,
    protect_table,
    rules,
    share_withheld,
    suppress,
)

P, S = Reason.PRIMARY, Reason.SECONDARY


def reasons(table: ProtectedTable[str, int]) -> dict[str, list[Reason | None]]:
    return {row: [cell.reason for cell in cells.values()] for row, cells in table.cells.items()}


def brute_force_audit(table: ProtectedTable[str, int]) -> list[tuple[str, int]]:
    """The hidden inner cells that have the same value in every table agreeing with what
    is published: shown cells as shown, hidden cells at least 1 (zeros are always shown),
    every shown margin equal to the sum of its cells (a hidden margin constrains nothing).
    Whole numbers only, so this also sees what the module's real-valued audit might
    miss. For each hidden cell, a depth-first search with pruning looks for one
    agreeing table where that cell has another value than its true one."""
    rows = list(table.cells)
    columns = list(table.cells[rows[0]])
    keys = list(itertools.product(rows, columns))
    hidden = [key for key in keys if table.cells[key[0]][key[1]].hidden]
    true = {key: table.cells[key[0]][key[1]].value for key in keys}
    lines: list[tuple[list[tuple[str, int]], int]] = []
    for r, cell in (table.row_totals or {}).items():
        if not cell.hidden:
            lines.append(([(r, c) for c in columns], cell.value))
    for c, cell in (table.column_totals or {}).items():
        if not cell.hidden:
            lines.append(([(r, c) for r in rows], cell.value))
    if table.total is not None and not table.total.hidden:
        lines.append((keys, table.total.value))
    # For each line: what its hidden cells must add up to, and which they are.
    needs = [
        (
            total - sum(true[key] for key in members if key not in hidden),
            [key for key in members if key in hidden],
        )
        for members, total in lines
    ]
    bound = max([total for _, total in lines] + [10 * len(keys)])

    def alternative_exists(target: tuple[str, int]) -> bool:
        order = [target] + [key for key in hidden if key != target]
        guess: dict[tuple[str, int], int] = {}

        def allowed(key: tuple[str, int], value: int) -> bool:
            return value >= 1 and not (key == target and value == true[target])

        def room(key: tuple[str, int]) -> int:
            """The largest value ``key`` can take with every other open cell at 1."""
            largest = bound
            for rest, members in needs:
                if key in members:
                    assigned = sum(guess[k] for k in members if k in guess)
                    missing = sum(1 for k in members if k not in guess)
                    largest = min(largest, rest - assigned - (missing - 1))
            return largest

        def search() -> bool:
            added: list[tuple[str, int]] = []
            found = propagate(added) and branch()
            if not found:
                for key in added:
                    del guess[key]
            return found

        def propagate(added: list[tuple[str, int]]) -> bool:
            """Fill in every cell that a line with one open cell decides; False on a
            contradiction."""
            progress = True
            while progress:
                progress = False
                for rest, members in needs:
                    open_cells = [key for key in members if key not in guess]
                    assigned = sum(guess[key] for key in members if key in guess)
                    if assigned + len(open_cells) > rest:
                        return False
                    if not open_cells and assigned != rest:
                        return False
                    if len(open_cells) == 1:
                        key, value = open_cells[0], rest - assigned
                        if not allowed(key, value):
                            return False
                        guess[key] = value
                        added.append(key)
                        progress = True
            return True

        def branch() -> bool:
            free = [key for key in order if key not in guess]
            if not free:
                return True
            key = free[0]
            for value in range(1, room(key) + 1):
                if allowed(key, value):
                    guess[key] = value
                    if search():
                        return True
                    del guess[key]
            return False

        return search()

    return [key for key in hidden if not alternative_exists(key)]


def assert_nothing_recoverable(table: ProtectedTable[str, int]) -> None:
    exposed = brute_force_audit(table)
    assert not exposed, f"these hidden cells can be worked out: {exposed}"


# --- Primary suppression ---------------------------------------------------------------


@pytest.mark.parametrize(("count", "small"), [(0, False), (1, True), (9, True), (10, False)])
def test_counts_from_one_to_nine_are_small(count: int, small: bool) -> None:
    """Zero is shown: it describes nobody."""
    assert DEFAULT_THRESHOLD == 10
    assert is_small(count) is small


def test_the_threshold_is_configurable() -> None:
    assert is_small(4, threshold=5)
    assert not is_small(5, threshold=5)
    assert protect_line({"a": 7, "b": 8}, threshold=5).applied == frozenset()


@pytest.mark.parametrize("threshold", [0, 1, 2.5, True])
def test_a_threshold_below_two_is_refused(threshold: int) -> None:
    with pytest.raises(ValueError):
        is_small(3, threshold=threshold)


# --- One-way tables --------------------------------------------------------------------


def test_nothing_small_nothing_hidden() -> None:
    line = protect_line({"girls": 185, "boys": 15, "unknown": 0})
    assert all(not cell.hidden for cell in line.cells.values())
    assert line.total is not None and line.total.shown == 200
    assert line.applied == frozenset()


def test_one_small_cell_with_a_total_takes_the_next_smallest_with_it() -> None:
    """3 hidden alone would be 200 - 185 - 12: the smallest other non-zero cell (12) goes
    too; the zero stays, as hiding it would not help."""
    line = protect_line({"girls": 185, "boys": 12, "non_binary": 3, "unknown": 0})
    assert {key: cell.reason for key, cell in line.cells.items()} == {
        "girls": None,
        "boys": S,
        "non_binary": P,
        "unknown": None,
    }
    assert line.cells["boys"].shown is None
    assert line.total is not None and line.total.shown == 200
    assert line.applied == frozenset({"primary", "secondary"})


def test_equal_smallest_cells_are_taken_in_the_order_given() -> None:
    line = protect_line({"a": 4, "b": 20, "c": 20, "d": 30})
    assert [cell.reason for cell in line.cells.values()] == [P, S, None, None]


def test_two_small_cells_protect_each_other() -> None:
    """5 + 6 = 11 is all a reader learns: each could be 1 to 10."""
    line = protect_line({"a": 5, "b": 6, "c": 100})
    assert [cell.reason for cell in line.cells.values()] == [P, P, None]


def test_hidden_ones_that_the_total_would_pin_down_take_another_cell() -> None:
    """Two hidden cells adding up to 2 must both be 1 (hidden cells are never 0): one more
    cell is hidden."""
    line = protect_line({"a": 1, "b": 1, "c": 50, "d": 70})
    assert [cell.reason for cell in line.cells.values()] == [P, P, S, None]


def test_when_only_zeros_are_left_the_total_is_hidden() -> None:
    """Ten ones and a zero, total 10: the ones are pinned down by the total, no non-zero
    cell is left to hide, so the total goes."""
    counts = {f"c{i}": 1 for i in range(10)} | {"zero": 0}
    line = protect_line(counts)
    assert line.total is not None and line.total.reason is S
    assert line.cells["zero"].shown == 0


def test_an_all_zero_table_hides_nothing() -> None:
    line = protect_line({"a": 0, "b": 0})
    assert [cell.shown for cell in line.cells.values()] == [0, 0]
    assert line.total is not None and line.total.shown == 0
    assert line.applied == frozenset()


def test_a_table_where_everything_is_small() -> None:
    """Every cell and the total are small: all hidden, each by the primary rule."""
    line = protect_line({"a": 3, "b": 4, "c": 2})
    assert [cell.reason for cell in line.cells.values()] == [P, P, P]
    assert line.total is not None and line.total.reason is P


def test_answers_that_do_not_add_up_get_primary_suppression_only() -> None:
    """Several forms of exploitation per case: no sum links the cells to the total."""
    line = protect_line({"sexual": 180, "criminal": 4, "labour": 30}, total=200, additive=False)
    assert [cell.reason for cell in line.cells.values()] == [None, P, None]
    assert line.total is not None and line.total.shown == 200


def test_a_total_that_does_not_match_is_refused() -> None:
    with pytest.raises(ValueError):
        protect_line({"a": 3, "b": 4}, total=8)


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_counts_must_be_whole_and_not_negative(bad: int) -> None:
    with pytest.raises(ValueError):
        protect_line({"a": bad})


# --- Two-way tables --------------------------------------------------------------------


def test_a_row_fix_that_breaks_a_column_is_fixed_too() -> None:
    """Row A: 3 is hidden, so A's next smallest (20) goes. That leaves columns 2019 and
    2020 each with one hidden cell, fixed by hiding C 2019 (12) and B 2020 (30); that
    leaves rows B and C with one each, fixed by B 2019 and C 2020. Then every row and
    column has none or at least two hidden cells."""
    table = protect_table(
        {"A": {2019: 3, 2020: 20}, "B": {2019: 15, 2020: 30}, "C": {2019: 12, 2020: 40}}
    )
    assert reasons(table) == {"A": [P, S], "B": [S, S], "C": [S, S]}
    assert table.row_totals is not None and table.column_totals is not None
    assert all(not cell.hidden for cell in table.row_totals.values())
    assert all(not cell.hidden for cell in table.column_totals.values())
    assert table.total is not None and table.total.shown == 120
    assert_nothing_recoverable(table)


def test_a_small_margin_is_hidden_and_protected() -> None:
    """Row C adds up to 7: its total is hidden by the primary rule, and the row totals
    (which add up to the grand total) then need a second hidden total."""
    table = protect_table(
        {"A": {2019: 30, 2020: 20}, "B": {2019: 15, 2020: 30}, "C": {2019: 0, 2020: 7}}
    )
    assert table.row_totals is not None
    assert [cell.reason for cell in table.row_totals.values()] == [None, S, P]
    assert reasons(table)["C"] == [None, P]
    assert_nothing_recoverable(table)


def test_a_two_way_table_of_small_cells_keeps_its_grand_total() -> None:
    table = protect_table({"A": {1: 3, 2: 3}, "B": {1: 3, 2: 3}})
    assert reasons(table) == {"A": [P, P], "B": [P, P]}
    assert table.total is not None and table.total.shown == 12
    assert table.row_totals is not None and table.column_totals is not None
    assert all(cell.reason is P for cell in table.row_totals.values())
    assert all(cell.reason is P for cell in table.column_totals.values())


def test_an_all_zero_two_way_table_hides_nothing() -> None:
    table = protect_table({"A": {1: 0, 2: 0}, "B": {1: 0, 2: 0}})
    assert reasons(table) == {"A": [None, None], "B": [None, None]}
    assert table.applied == frozenset()


def test_without_column_totals_only_rows_link_cells() -> None:
    """A category by year where categories overlap: the yearly number of cases is not a
    column sum, so only the rows (a category over the years) are lines."""
    table = protect_table(
        {"A": {2019: 3, 2020: 20, 2021: 25}, "B": {2019: 15, 2020: 30, 2021: 40}},
        column_totals=False,
    )
    assert reasons(table) == {"A": [P, S, None], "B": [None, None, None]}
    assert table.column_totals is None and table.total is None


def test_rows_must_share_their_columns() -> None:
    with pytest.raises(ValueError):
        protect_table({"A": {1: 3, 2: 4}, "B": {1: 3}})


small_tables = st.lists(
    st.lists(st.integers(0, 14), min_size=2, max_size=3), min_size=2, max_size=3
).filter(lambda rows: len({len(row) for row in rows}) == 1)


@given(small_tables)
@settings(max_examples=60, deadline=None)
def test_every_line_has_no_or_at_least_two_hidden_cells(rows: list[list[int]]) -> None:
    """For any small table: small counts hidden, zeros shown, each row and column (with its
    margin) holds none or at least two hidden cells, and the brute-force audit finds no
    hidden cell with only one possible value."""
    counts = {f"r{i}": dict(enumerate(row)) for i, row in enumerate(rows)}
    table = protect_table(counts)
    cells = [cell for row in table.cells.values() for cell in row.values()]
    assert all(cell.hidden for cell in cells if 0 < cell.value < 10)
    assert all(not cell.hidden for cell in cells if cell.value == 0)
    assert table.row_totals is not None and table.column_totals is not None
    for r, row in table.cells.items():
        count = sum(cell.hidden for cell in row.values()) + table.row_totals[r].hidden
        assert count != 1
    for c in table.column_totals:
        column = [table.cells[r][c] for r in table.cells]
        count = sum(cell.hidden for cell in column) + table.column_totals[c].hidden
        assert count != 1
    assert_nothing_recoverable(table)


def test_lines_together_can_give_away_what_no_single_line_does() -> None:
    """Row r0 has one non-zero cell, so its total equals that cell; with the margins and
    column 1 a reader finds r1/2019 = (60 - 55) = 5, although every line holds two hidden
    cells. The audit catches it and hides more."""
    table = protect_table(
        {
            "r0": {2019: 0, 2020: 15, 2021: 0},
            "r1": {2019: 5, 2020: 40, 2021: 0},
            "r2": {2019: 3, 2020: 40, 2021: 10},
        }
    )
    assert_nothing_recoverable(table)


def test_cells_that_can_only_be_one_across_lines_are_protected() -> None:
    """Here the column totals that are shown leave three hidden cells adding up to 3:
    each must be 1. The audit hides another cell so that cannot be concluded."""
    table = protect_table({"r0": {0: 1, 1: 0, 2: 3}, "r1": {0: 1, 1: 1, 2: 12}})
    assert_nothing_recoverable(table)


def test_the_audit_solves_the_equations() -> None:
    """x + y = 10, y + z = 12, x + z = 10: every line has two hidden cells, yet
    x = (10 - 12 + 10) / 2 = 4, and so y = 6 and z = 6."""
    values = {"x": 4, "y": 6, "z": 6, "xy": 10, "yz": 12, "xz": 10}
    lines = [Line(("x", "y"), "xy"), Line(("y", "z"), "yz"), Line(("x", "z"), "xz")]
    exposed, involved = audit(values, lines, {"x": P, "y": P, "z": P})
    assert exposed == {"x", "y", "z"}
    assert involved == {0, 1, 2}
    # suppress() hides one total (the first smallest) and then nothing can be solved.
    assert suppress(values, lines) == {"x": P, "y": P, "z": P, "xy": S}
    assert audit(values, lines, suppress(values, lines)) == (set(), set())


def test_the_audit_sees_cells_that_can_only_be_one() -> None:
    """a + b = u and u + c = 3 with u hidden: a + b + c = 3 and each is at least 1, so all
    are 1 and u is 2. No single line shows it."""
    values = {"a": 1, "b": 1, "c": 1, "u": 2, "v": 3}
    lines = [Line(("a", "b"), "u"), Line(("u", "c"), "v")]
    exposed, involved = audit(values, lines, {"a": P, "b": P, "c": P, "u": P})
    assert exposed == {"a", "b", "c", "u"}
    assert 1 in involved


def test_the_audit_passes_what_cannot_be_worked_out() -> None:
    values = {"a": 3, "b": 40, "c": 50, "t": 93}
    assert audit(values, [Line(("a", "b", "c"), "t")], {"a": P, "b": S}) == (set(), set())


def test_suppress_works_on_any_lines() -> None:
    """The general form: cells by key and the lines that add up."""
    values: Mapping[str, int] = {"a": 2, "b": 30, "c": 5, "ab": 32, "abc": 37}
    lines = [Line(("a", "b"), "ab"), Line(("ab", "c"), "abc")]
    # a hides b; c alone in its line hides the subtotal ab, the only other non-zero cell.
    assert suppress(values, lines) == {"a": P, "c": P, "b": S, "ab": S}


def test_suppress_refuses_lines_that_do_not_add_up() -> None:
    with pytest.raises(ValueError):
        suppress({"a": 2, "b": 3, "t": 6}, [Line(("a", "b"), "t")])


# --- Shares ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "base", "hidden", "reason"),
    [
        (28, 196, False, None),
        (0, 50, False, None),  # "none of 50" is shown
        (50, 50, False, None),  # "all 50" is shown
        (3, 9, False, Withheld.SMALL_BASE),
        (0, 0, False, Withheld.SMALL_BASE),
        (4, 200, False, Withheld.SMALL_COUNT),
        (196, 200, False, Withheld.SMALL_REST),  # gives away the 4 who are not
        (40, 200, True, Withheld.SUPPRESSED),  # hidden in its table by secondary suppression
    ],
)
def test_when_a_share_is_withheld(
    count: int, base: int, hidden: bool, reason: Withheld | None
) -> None:
    assert share_withheld(count, base, count_hidden=hidden) == reason


def test_a_share_with_a_count_above_its_base_is_refused() -> None:
    with pytest.raises(ValueError):
        share_withheld(5, 4)


# --- Youngest and oldest ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "code", "label"),
    [(9, "under_12", "0\N{EN DASH}11"), (15, "12_15", "12\N{EN DASH}15"), (50, "35_plus", "35+")],
)
def test_an_age_is_published_as_its_band(age: int, code: str, label: str) -> None:
    band = age_band(age, codebook.AGE_BANDS)
    assert (band.code, band.label) == (code, label)


@pytest.mark.parametrize(
    "bands",
    [
        [("a", 0, 12), ("b", 12, 15)],  # overlap
        [("a", 10, 12), ("b", 0, 5)],  # out of order
        [("a", 0, None), ("b", 18, 20)],  # open-ended band before the last
        [("a", 5, 3)],  # empty band
    ],
)
def test_bands_that_overlap_or_are_disordered_are_refused(
    bands: list[tuple[str, int, int | None]],
) -> None:
    with pytest.raises(ValueError):
        age_band(4, bands)


def test_an_age_outside_every_band_is_refused() -> None:
    with pytest.raises(ValueError):
        age_band(30, [("young", 0, 17), ("adult", 18, 24)])


# --- The rules as printed --------------------------------------------------------------


def test_the_rules_are_printed_in_dutch_and_english_with_the_threshold() -> None:
    printed = rules()
    assert [rule.code for rule in printed] == list(RULE_CODES)
    assert all(rule.nl and rule.en for rule in printed)
    primary = printed[0]
    assert "1 to 9" in primary.en and "1 tot en met 9" in primary.nl
    assert "1 to 4" in rules(threshold=5)[0].en


def test_the_rules_that_applied_can_be_picked() -> None:
    line = protect_line({"a": 3, "b": 40, "c": 50})
    picked = rules(codes=line.applied)
    assert [rule.code for rule in picked] == ["primary", "secondary"]
    with pytest.raises(ValueError):
        rules(codes=["unknown"])
