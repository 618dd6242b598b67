"""Reading capture tables: the format, and every bad input refused with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from haven.estimation.table import MAX_LISTS, CaptureTable, TableError, parse_csv, pattern_code

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "mse"


def problems(text: str | bytes) -> list[tuple[int, str, str]]:
    with pytest.raises(TableError) as caught:
        parse_csv(text)
    return [(p.line, p.column, p.message.code) for p in caught.value.problems]


def test_reads_the_reference_tables() -> None:
    """The shipped tables read as the README describes them (lists, people seen)."""
    korea = parse_csv((DATA / "korea_3lists.csv").read_text())
    assert korea.lists == ("b", "c", "d")
    assert korea.observed == 123
    uk5 = parse_csv((DATA / "uk_2013_5lists.csv").read_text())
    assert uk5.lists == ("LA", "NG", "PFNCA", "GO", "GP")
    assert uk5.observed == 2744
    uk6 = parse_csv((DATA / "uk_2013_6lists.csv").read_text())
    assert len(uk6.lists) == 6
    assert uk6.observed == 2744


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared/data/mse beside the repository")
def test_the_copies_match_the_shared_reference_tables() -> None:
    """The tests use copies of ../shared/data/mse; they must not drift from the originals."""
    for original in SHARED.glob("*.csv"):
        assert (DATA / original.name).read_bytes() == original.read_bytes()


def test_a_row_may_say_zero() -> None:
    """An explicit 0 count is a pattern nobody has (Korea's 0,1,1), not an error."""
    table = parse_csv((DATA / "korea_3lists.csv").read_text())
    assert table.counts[table.patterns.index((0, 1, 1))] == 0


def test_cells_cover_every_pattern_but_the_all_zero_one() -> None:
    """Cell c - 1 holds the pattern whose bit k says list k; missing patterns count 0."""
    table = parse_csv("A,B,C,count\n1,0,1,7\n0,1,0,3\n")
    z, y = table.cells()
    assert z.shape == (7, 3)
    assert y[pattern_code((1, 0, 1)) - 1] == 7
    assert y[pattern_code((0, 1, 0)) - 1] == 3
    assert y.sum() == 10
    assert list(z[pattern_code((1, 0, 1)) - 1]) == [1, 0, 1]


def test_format_variants() -> None:
    """count in any column and any case; semicolons; a BOM; blank lines; 3.0 as 3; spaces."""
    table = parse_csv("\ufeff\nCount ; A;B\n\n 4 ;1; 0\n3.0;1;1\n")
    assert table.lists == ("A", "B")
    assert table.patterns == ((1, 0), (1, 1))
    assert table.counts == (4, 3)
    assert table.lines == (4, 5)


def test_bytes_are_read_as_utf8() -> None:
    assert parse_csv("Één,Twee,count\n1,1,2\n".encode()).lists == ("Één", "Twee")


def test_round_trip_through_csv() -> None:
    table = parse_csv((DATA / "uk_2013_5lists.csv").read_text())
    again = parse_csv(table.to_csv())
    assert (again.lists, again.patterns, again.counts) == (
        table.lists,
        table.patterns,
        table.counts,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(0, "", "empty_file")]),
        (" \n\n", [(0, "", "empty_file")]),
        ("A,B,n\n1,0,3\n", [(1, "", "no_count_column")]),
        ("A,count\n1,3\n", [(1, "", "too_few_lists")]),
        ("A,A,count\n1,0,3\n", [(1, "A", "duplicate_column")]),
        ("A,,count\n1,0,3\n", [(1, "", "unnamed_column")]),
        ("A,B,count\n1,2,3\n", [(2, "B", "not_binary")]),
        ("A,B,count\n1,yes,3\n", [(2, "B", "not_binary")]),
        ("A,B,count\n1,0,-3\n", [(2, "count", "count_negative")]),
        ("A,B,count\n1,0,2.5\n", [(2, "count", "count_fractional")]),
        ("A,B,count\n1,0,2000000000\n", [(2, "count", "count_too_large")]),
        ("A,B,count\n1,0,1" + "0" * 400 + "\n", [(2, "count", "count_too_large")]),
        ("A,B,count\n1,0,1e400\n", [(2, "count", "count_not_number")]),
        ("A,B,count\n1,0,many\n", [(2, "count", "count_not_number")]),
        ("A,B,count\n1,0,nan\n", [(2, "count", "count_not_number")]),
        ("A,B,count\n1,0,3\n0,0,5\n", [(3, "", "all_zero_pattern")]),
        ("A,B,count\n1,0,3\n0,1,2\n1,0,4\n", [(4, "", "duplicate_pattern")]),
        ("A,B,count\n1,0,3\n0,1\n", [(3, "", "ragged_row")]),
        ("A,B,count\n1,0,3,9\n", [(2, "", "ragged_row")]),
        ("A,B,count\n", [(0, "", "no_patterns")]),
        ("A,B,count\n1,0,0\n0,1,0\n", [(0, "", "nobody_seen")]),
        (b"A,B,count\n1,0,\xff\n", [(0, "", "not_utf8")]),
        ('A,B,count\n1,0,"3\n', [(2, "", "bad_csv")]),
    ],
)
def test_bad_input_names_the_line(text: str | bytes, expected: list[tuple[int, str, str]]) -> None:
    """Each kind of bad input is refused with the line (and column) where it is."""
    assert problems(text) == expected


def test_the_duplicate_names_the_first_line() -> None:
    with pytest.raises(TableError) as caught:
        parse_csv("A,B,count\n1,0,3\n0,1,2\n1,0,4\n")
    assert caught.value.problems[0].message.params["first"] == 2
    assert "line 4" in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    """A person fixes a whole file in one go: all bad rows, in line order."""
    found = problems("A,B,count\n1,2,3\n1,0,-1\n0,0,4\n1,1,x\n")
    assert [(line, code) for line, _column, code in found] == [
        (2, "not_binary"),
        (3, "count_negative"),
        (4, "all_zero_pattern"),
        (5, "count_not_number"),
    ]


def test_too_many_lists() -> None:
    header = ",".join(f"L{i}" for i in range(MAX_LISTS + 1))
    assert problems(f"{header},count\n") == [(1, "", "too_many_lists")]


def test_messages_name_the_value_but_shorten_it() -> None:
    with pytest.raises(TableError) as caught:
        parse_csv("A,B,count\n1,0," + "9x" * 100 + "\n")
    value = caught.value.problems[0].message.params["value"]
    assert value.startswith("9x9x") and len(value) <= 40


def test_a_table_built_in_code() -> None:
    """The analyst page may build a table directly (no line numbers)."""
    table = CaptureTable(("A", "B"), ((1, 0), (0, 1), (1, 1)), (5, 6, 2))
    assert table.observed == 13
    assert table.cells()[1].tolist() == [5.0, 6.0, 2.0]
