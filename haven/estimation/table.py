"""A capture table: how many people were seen on exactly which lists. Plain Python, no Django.

The CSV format (``docs/estimation.md``): a header with one column per list and a column
named ``count`` (in any position; case and surrounding spaces do not matter), then one row
per capture pattern: 1 where the people are on that list, 0 where not, and how many people
have exactly that pattern. Patterns that are not given have count 0; a row may also say 0.
The all-zero pattern (on no list) is what an estimate finds, so a table never holds it.
Commas separate cells; a file whose header has semicolons and no commas (as a Dutch
spreadsheet writes it) is read with semicolons.

Reading checks the whole file and collects every problem with its line (the physical line
where the row starts; the header is line 1 unless blank lines come first; line 0 means the
file as a whole), so a person can fix a file in one go. Messages are English source strings
marked for translation (see :mod:`haven.estimation.messages`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from haven.estimation.messages import Message, gettext_noop

_ = gettext_noop

# 12 lists make 4,095 patterns; the log-linear design grows with 2^lists, and no register
# study we know of combines more than about ten lists.
MAX_LISTS = 12
COUNT_COLUMN = "count"
# Error messages quote what the file said, shortened: a huge cell must not make a huge report.
_QUOTE_MAX = 40
# More problems than this are summarised: a wholly wrong file needs one look, not thousands.
MAX_PROBLEMS = 50
# No register holds more people than this in one pattern; a larger count is a typing
# error, and counts far beyond it overflow the fit (a count of 10**400 is not a float).
MAX_COUNT = 10**9
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class Problem:
    """One problem in a capture table: the line (0 for the whole file), the column if one
    is at fault, and why."""

    line: int
    column: str
    message: Message

    def __str__(self) -> str:
        where = "file" if self.line == 0 else f"line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, **self.message.to_dict()}


class TableError(ValueError):
    """A table was refused; ``problems`` lists every problem found, in line order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(map(str, self.problems[:5]))
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{len(self.problems)} problem(s): {shown}{more}")


@dataclass(frozen=True)
class CaptureTable:
    """Counts of people per capture pattern.

    ``patterns[i]`` holds 0 or 1 per list (never all 0, never twice) and ``counts[i]`` the
    number of people with exactly that pattern (whole, at least 0); ``lines[i]`` is where
    the row was read (0 when the table was not read from a file).
    """

    lists: tuple[str, ...]
    patterns: tuple[tuple[int, ...], ...]
    counts: tuple[int, ...]
    lines: tuple[int, ...] = field(default=())

    @property
    def observed(self) -> int:
        """The number of people seen on at least one list."""
        return sum(self.counts)

    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Every possible pattern except the all-zero one, and its count.

        Returns ``(Z, y)``: ``Z`` has one row per pattern, row ``c - 1`` for the pattern whose
        bit ``k`` (value ``2**k``) says whether list ``k`` is in it; ``y`` the counts as floats.
        """
        m = len(self.lists)
        codes = np.arange(1, 2**m)
        z = ((codes[:, None] >> np.arange(m)[None, :]) & 1).astype(float)
        y = np.zeros(2**m - 1)
        for pattern, count in zip(self.patterns, self.counts, strict=True):
            y[pattern_code(pattern) - 1] += count
        return z, y

    def to_csv(self) -> str:
        """The table in the CSV format it can be read from again."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*self.lists, COUNT_COLUMN])
        for pattern, count in zip(self.patterns, self.counts, strict=True):
            writer.writerow([*pattern, count])
        return out.getvalue()


def pattern_code(pattern: Sequence[int]) -> int:
    """The cell number of a pattern: list ``k`` contributes ``2**k``."""
    return sum(1 << k for k, on in enumerate(pattern) if on)


def _quote(value: str) -> str:
    return value if len(value) <= _QUOTE_MAX else value[: _QUOTE_MAX - 1] + "…"


def parse_csv(data: str | bytes) -> CaptureTable:
    """Read and check a capture table; return it, or raise :class:`TableError` with every
    problem found (see the module docstring for the format)."""
    reader = _Reader()
    table = reader.read(data)
    if reader.problems or table is None:
        raise TableError(sorted(reader.problems, key=lambda problem: problem.line))
    return table


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, line: int, column: str, template: str, code: str, /, **params: Any) -> None:
        self.problems.append(Problem(line, column, Message(code, template, params)))

    def text(self, data: str | bytes) -> str | None:
        if isinstance(data, bytes):
            raw = data
            try:
                data = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.fail(
                    0,
                    "",
                    _("The file is not UTF-8 text (first problem on line %(line)s)."),
                    "not_utf8",
                    line=raw[: exc.start].count(b"\n") + 1,
                )
                return None
        text = data.removeprefix("\ufeff")
        if not text.strip():
            self.fail(0, "", _("The file is empty."), "empty_file")
            return None
        return text

    def read(self, data: str | bytes) -> CaptureTable | None:
        text = self.text(data)
        if text is None:
            return None
        first = next(line for line in text.splitlines() if line.strip())
        delimiter = ";" if ";" in first and "," not in first else ","
        rows: list[tuple[int, list[str]]] = []
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        previous_end = 0
        while True:
            start = previous_end + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self.fail(
                    start,
                    "",
                    _("This line is not valid CSV (%(reason)s)."),
                    "bad_csv",
                    reason=str(exc),
                )
                return None
            previous_end = reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append((start, [cell.strip() for cell in cells]))
        if not rows:
            self.fail(0, "", _("The file is empty."), "empty_file")
            return None
        header_line, header = rows[0]
        columns = self.header(header_line, header)
        if columns is None:
            return None
        lists, count_index = columns
        list_indices = [i for i in range(len(header)) if i != count_index]
        patterns: list[tuple[int, ...]] = []
        counts: list[int] = []
        lines: list[int] = []
        first_line_of: dict[tuple[int, ...], int] = {}
        for line, cells in rows[1:]:
            if len(self.problems) >= MAX_PROBLEMS:
                break
            row = self.row(line, cells, header, list_indices, count_index)
            if row is None:
                continue
            pattern, count = row
            if pattern in first_line_of:
                self.fail(
                    line,
                    "",
                    _(
                        "This pattern is already on line %(first)s; give each pattern once, "
                        "with the number of people who have it."
                    ),
                    "duplicate_pattern",
                    first=first_line_of[pattern],
                )
                continue
            first_line_of[pattern] = line
            patterns.append(pattern)
            counts.append(count)
            lines.append(line)
        if self.problems:
            return None
        if not patterns:
            self.fail(0, "", _("The file has a header but no capture patterns."), "no_patterns")
            return None
        if sum(counts) == 0:
            self.fail(0, "", _("Every count is 0: nobody was seen on any list."), "nobody_seen")
            return None
        return CaptureTable(tuple(lists), tuple(patterns), tuple(counts), tuple(lines))

    def header(self, line: int, header: list[str]) -> tuple[list[str], int] | None:
        seen: set[str] = set()
        for position, name in enumerate(header, start=1):
            if not name:
                self.fail(
                    line,
                    "",
                    _("Column %(position)s of the header has no name."),
                    "unnamed_column",
                    position=position,
                )
            elif name.casefold() in seen:
                self.fail(
                    line,
                    _quote(name),
                    _("Column %(name)s appears twice in the header."),
                    "duplicate_column",
                    name=_quote(name),
                )
            seen.add(name.casefold())
        counts = [i for i, name in enumerate(header) if name.casefold() == COUNT_COLUMN]
        if not counts:
            self.fail(
                line,
                "",
                _(
                    "The header has no count column: it needs one column per list and a "
                    "column named count with the number of people per pattern."
                ),
                "no_count_column",
            )
        lists = [name for name in header if name.casefold() != COUNT_COLUMN]
        if len(lists) < 2:
            self.fail(
                line,
                "",
                _(
                    "The header names %(lists)s list(s); an estimate needs at least two lists "
                    "that can share people."
                ),
                "too_few_lists",
                lists=len(lists),
            )
        elif len(lists) > MAX_LISTS:
            self.fail(
                line,
                "",
                _("The header names %(lists)s lists; at most %(max)s are supported."),
                "too_many_lists",
                lists=len(lists),
                max=MAX_LISTS,
            )
        if self.problems:
            return None
        return lists, counts[0]

    def row(
        self,
        line: int,
        cells: list[str],
        header: list[str],
        list_indices: list[int],
        count_index: int,
    ) -> tuple[tuple[int, ...], int] | None:
        if len(cells) != len(header):
            self.fail(
                line,
                "",
                _("This row has %(cells)s cells; the header has %(columns)s."),
                "ragged_row",
                cells=len(cells),
                columns=len(header),
            )
            return None
        before = len(self.problems)
        pattern: list[int] = []
        for i in list_indices:
            value = cells[i]
            if value in ("0", "1"):
                pattern.append(int(value))
            else:
                self.fail(
                    line,
                    _quote(header[i]),
                    _(
                        "List column %(column)s holds “%(value)s”; it must hold 1 (on the "
                        "list) or 0 (not on it)."
                    ),
                    "not_binary",
                    column=_quote(header[i]),
                    value=_quote(value),
                )
        count = self.count(line, header[count_index], cells[count_index])
        if len(self.problems) > before or count is None:
            return None
        if not any(pattern):
            self.fail(
                line,
                "",
                _(
                    "This row is the pattern of people on no list. Those are the unseen people "
                    "the estimate finds, so the table cannot hold them: leave the row out."
                ),
                "all_zero_pattern",
            )
            return None
        return tuple(pattern), count

    def count(self, line: int, column: str, value: str) -> int | None:
        params = {"value": _quote(value)}
        if _INTEGER.fullmatch(value):
            number: float = int(value)
        else:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                self.fail(
                    line,
                    column,
                    _("The count “%(value)s” is not a number."),
                    "count_not_number",
                    **params,
                )
                return None
            if number != int(number):
                self.fail(
                    line,
                    column,
                    _("The count “%(value)s” is not a whole number of people."),
                    "count_fractional",
                    **params,
                )
                return None
        if number < 0:
            self.fail(
                line, column, _("The count “%(value)s” is negative."), "count_negative", **params
            )
            return None
        if number > MAX_COUNT:
            self.fail(
                line,
                column,
                _("The count “%(value)s” is too large: at most %(max)s people in one pattern."),
                "count_too_large",
                max=MAX_COUNT,
                **params,
            )
            return None
        return int(number)
