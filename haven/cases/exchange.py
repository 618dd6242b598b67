"""The file format for coded cases: CSV and JSON, in and out. Plain Python, no Django.

One format for both directions, so that what Haven exports it can import again, an
organisation can bring its existing spreadsheet, and a researcher can take the anonymous
records out. ``docs/codebook.md`` documents it for people.

Columns (CSV header, JSON object keys), in this order: ``case_id``, ``codebook_version``,
``contacts``, one column per codebook question in codebook order, ``reviewed``.

* ``contacts`` are months (``YYYY-MM``), not days: a day of contact together with a few
  codes could point at one person, a month hardly can. On import a month becomes its first
  day. CSV separates them with ``;``, JSON gives a list.
* A ONE question holds its code, a NUMBER question a whole number or nothing, a MANY
  question its codes (``;``-separated in CSV, a list in JSON).

Importing checks every row and collects every problem (:class:`RowError`), so a person can
fix a whole file in one go; nothing is imported while any row is bad. Line numbers: for CSV
the physical line where the record starts (the header is line 1); for JSON the position of
the case in ``cases``, counting from 1 (the column says so too). Line 0 means the file as a
whole. Messages are English source strings marked for translation, with ``%(name)s``
placeholders filled from ``params``, like :class:`codebook.Problem`.

No free text ever passes through here: every value is a code, a number, a month, an id or a
yes/no, so an export cannot carry a transcript or a note.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from haven.cases import codebook
from haven.cases.codebook import Kind, gettext_noop

_ = gettext_noop

FORMAT = "haven-cases"
FORMATS = ("csv", "json")
COLUMNS: tuple[str, ...] = ("case_id", "codebook_version", "contacts", *codebook.NAMES, "reviewed")
# Columns a file may lack only because its rows were coded under an older codebook version,
# before the question existed (they then take the question's default).
_LATER_QUESTIONS = {q.name: q.since for q in codebook.QUESTIONS if q.since > 1}
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_TRUE = frozenset({"true", "1", "yes", "ja", "waar"})
_FALSE = frozenset({"false", "0", "no", "nee", "onwaar", ""})
# Error messages quote what the file said, shortened: a message is read on a screen, and a
# huge cell must not make a huge report.
_QUOTE_MAX = 60
# Rows per chunk that the export serialisers yield.
CHUNK_ROWS = 500


@dataclass(frozen=True)
class RowError:
    """One problem in an import file: where (line and column) and why."""

    line: int
    column: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = "file" if self.line == 0 else f"line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message % dict(self.params)}"


class ImportRefused(Exception):
    """A file was refused; ``errors`` lists every problem found, in file order."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        shown = "; ".join(map(str, self.errors[:5]))
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{len(self.errors)} problem(s): {shown}{more}")


@dataclass(frozen=True)
class CaseRow:
    """One coded case as the file format sees it (read from a file, or to be written).

    ``record`` is a complete, normalised codebook record (see :func:`codebook.validate`);
    ``contacts`` are dates (the first day of each month on import).
    """

    case_id: uuid.UUID | None
    codebook_version: int
    contacts: tuple[dt.date, ...]
    record: Mapping[str, Any]
    reviewed: bool
    line: int = 0


# --- reading ------------------------------------------------------------------------------


def format_for(filename: str) -> str | None:
    """The format a file name's extension suggests (``csv`` or ``json``), or ``None``."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return suffix if suffix in FORMATS else None


ExistingIds = Callable[[Sequence[uuid.UUID]], Iterable[uuid.UUID]]


def parse(
    data: bytes,
    fmt: str,
    *,
    existing: ExistingIds | None = None,
    today: dt.date | None = None,
) -> list[CaseRow]:
    """Read and check a whole file; return its rows, or raise :class:`ImportRefused` with
    every problem found.

    ``existing`` is given the case ids in the file and returns those already known (rows
    with those ids are refused: an import adds cases, it never overwrites one). With
    ``today``, contact months after today's month are refused.
    """
    reader = _Reader(today=today)
    if fmt == "csv":
        reader.read_csv(data)
    elif fmt == "json":
        reader.read_json(data)
    else:
        reader.fail(0, "", _("Choose a CSV or JSON file."))
    if existing is not None and reader.ids:
        known = set(existing(list(reader.first_line_of_id)))
        for line, case_id in reader.ids:
            if case_id in known:
                reader.fail(
                    line,
                    reader.where(line, "case_id"),
                    _("A case with this id is already in Haven; an import never replaces one."),
                )
    if reader.errors:
        raise ImportRefused(sorted(reader.errors, key=_file_order))
    return reader.rows


def _file_order(error: RowError) -> tuple[int, int]:
    """Line by line, and within a line column by column (whole-row problems first)."""
    column = error.column.split(" (case ", 1)[0]
    return error.line, COLUMNS.index(column) + 1 if column in COLUMNS else 0


class _Reader:
    def __init__(self, *, today: dt.date | None) -> None:
        self.today = today
        self.errors: list[RowError] = []
        self.rows: list[CaseRow] = []
        self.fmt = "csv"
        self.first_line_of_id: dict[uuid.UUID, int] = {}
        # Every readable case id and its line, also of rows with other problems.
        self.ids: list[tuple[int, uuid.UUID]] = []

    def fail(self, line: int, column: str, message: str, /, **params: Any) -> None:
        self.errors.append(RowError(line, column, message, params))

    def where(self, line: int, column: str) -> str:
        # JSON has no useful line numbers; its "line" is the case's position in "cases".
        if self.fmt == "json" and line > 0:
            return f"{column} (case {line})" if column else f"(case {line})"
        return column

    def text(self, data: bytes) -> str | None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.fail(
                0,
                "",
                _("The file is not UTF-8 text (first problem on line %(line)s)."),
                line=data[: exc.start].count(b"\n") + 1,
            )
            return None
        if not text.strip():
            self.fail(0, "", _("The file is empty."))
            return None
        return text

    # --- CSV

    def read_csv(self, data: bytes) -> None:
        self.fmt = "csv"
        text = self.text(data)
        if text is None:
            return
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header: list[str] | None = None
        columns: dict[str, int] = {}
        count = 0
        previous_end = 0
        while True:
            start = previous_end + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if "end of data" in str(exc):
                    message = _(
                        "A quoted value is never closed: the file ends inside quotes that "
                        "start on this line or after it."
                    )
                else:
                    message = _(
                        "This line is not valid CSV (a quote in the wrong place?). "
                        "Lines after it were not checked."
                    )
                self.fail(start, "", message)
                return
            previous_end = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (also those a spreadsheet leaves at the end)
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                columns = self.check_header(header, start)
                continue
            if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
                cells = cells[: len(header)]  # a spreadsheet's trailing empty cells
            if len(cells) != len(header):
                self.fail(
                    start,
                    "",
                    _("This line has %(found)s values; the header has %(expected)s."),
                    found=len(cells),
                    expected=len(header),
                )
                count += 1
                continue
            raw = {name: cells[index].strip() for name, index in columns.items()}
            self.read_row(start, raw, missing_checked=True)
            count += 1
        if header is None:
            self.fail(0, "", _("The file is empty."))
        elif count == 0:
            self.fail(0, "", _("The file has a header but no cases."))

    def check_header(self, header: list[str], line: int) -> dict[str, int]:
        columns: dict[str, int] = {}
        for index, name in enumerate(header):
            if name in columns:
                self.fail(line, name, _("This column appears twice."))
            elif name not in COLUMNS:
                self.fail(line, _quote(name), _("Unknown column."))
            else:
                columns[name] = index
        for name in COLUMNS:
            if name not in columns and name not in _LATER_QUESTIONS:
                self.fail(line, name, _("Missing column."))
        return columns

    # --- JSON

    def read_json(self, data: bytes) -> None:
        self.fmt = "json"
        text = self.text(data)
        if text is None:
            return
        try:
            document = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            where = exc if isinstance(exc, json.JSONDecodeError) else None
            self.fail(
                0,
                "",
                _("This is not valid JSON (near line %(line)s, position %(column)s)."),
                line=where.lineno if where else 1,
                column=where.colno if where else 1,
            )
            return
        if not isinstance(document, dict):
            self.fail(0, "", _('The file must hold one JSON object with "format" and "cases".'))
            return
        if document.get("format") != FORMAT:
            self.fail(
                0,
                "format",
                _('This is not a Haven cases file: "format" must be "%(format)s".'),
                format=FORMAT,
            )
            return
        version = _whole(document.get("codebook_version"))
        if version is None:
            self.fail(0, "codebook_version", _("Give the codebook version as a whole number."))
        elif version > codebook.VERSION:
            self._too_new(0, "codebook_version", version)
        for key in sorted(set(document) - {"format", "codebook_version", "cases"}):
            self.fail(0, _quote(key), _("Unknown key."))
        cases = document.get("cases")
        if not isinstance(cases, list):
            self.fail(0, "cases", _('"cases" must be a list of cases.'))
            return
        if not cases:
            self.fail(0, "cases", _("The file holds no cases."))
            return
        for index, case in enumerate(cases, start=1):
            if not isinstance(case, dict):
                self.fail(index, self.where(index, ""), _("A case must be a JSON object."))
                continue
            for key in sorted(k for k in case if k not in COLUMNS):
                self.fail(index, self.where(index, _quote(str(key))), _("Unknown key."))
            self.read_row(index, case, missing_checked=False)

    # --- one row, either format

    def read_row(self, line: int, raw: Mapping[str, Any], *, missing_checked: bool) -> None:
        """Check one row. For CSV, cells are stripped strings and missing columns were
        reported with the header (``missing_checked``); JSON values keep their JSON types."""
        before = len(self.errors)
        at = self.where

        def fail(column: str, message: str, /, **params: Any) -> None:
            self.fail(line, at(line, column), message, **params)

        def missing(column: str) -> bool:
            if column in raw:
                return False
            if not missing_checked:
                fail(column, _("Missing key."))
            return True

        case_id = None if missing("case_id") else self.case_id(raw["case_id"], fail)
        version = codebook.VERSION
        if not missing("codebook_version"):
            version = self.version(line, raw["codebook_version"], fail)
        contacts: tuple[dt.date, ...] = ()
        if not missing("contacts"):
            contacts = self.contacts(raw["contacts"], fail)
        answers: dict[str, Any] = {}
        for question in codebook.QUESTIONS:
            if question.name not in raw:
                if question.since > version:
                    continue  # an older record: the question takes its default
                if not missing_checked:
                    fail(question.name, _("Missing key."))
                elif question.name in _LATER_QUESTIONS:
                    fail(
                        question.name,
                        _("Missing column (the question is in codebook version %(version)s)."),
                        version=question.since,
                    )
                continue
            value = self.answer(question, raw[question.name], fail)
            if value is not _BAD:
                answers[question.name] = value
        record: dict[str, Any] = {}
        try:
            record = codebook.validate(answers)
        except codebook.Invalid as invalid:
            for name, problems in invalid.errors.items():
                for problem in problems:
                    if problem.message == _CHOOSE_ONE and name in answers:
                        # The form's wording assumes a list to pick from; a file needs to
                        # hear what it said and what it may say.
                        fail(
                            name,
                            _("Not an option: %(value)s. The codes are: %(codes)s."),
                            value=_quote(answers[name]),
                            codes=", ".join(code or '""' for code in codebook.BY_NAME[name].codes),
                        )
                    else:
                        fail(name, problem.message, **_shorten(problem.params))
        reviewed = False
        if not missing("reviewed"):
            reviewed = self.reviewed(raw["reviewed"], fail)
        if case_id is not None:
            self.ids.append((line, case_id))
            first = self.first_line_of_id.setdefault(case_id, line)
            if first != line:
                fail(
                    "case_id",
                    _("The same case id is used earlier in the file (line %(first)s)."),
                    first=first,
                )
        if len(self.errors) == before:
            self.rows.append(
                CaseRow(
                    case_id=case_id,
                    codebook_version=version,
                    contacts=contacts,
                    record=record,
                    reviewed=reviewed,
                    line=line,
                )
            )

    def case_id(self, value: Any, fail: Callable[..., None]) -> uuid.UUID | None:
        if value is None or value == "":
            return None  # a new case: Haven gives it an id
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                pass
        fail(
            "case_id",
            _(
                "Not a case id (a UUID such as %(example)s): %(value)s. "
                "Leave it empty for a new case."
            ),
            example="0b5c8f3e-6d2a-4f7e-9c1b-2a3d4e5f6a7b",
            value=_quote(value),
        )
        return None

    def version(self, line: int, value: Any, fail: Callable[..., None]) -> int:
        number = _whole(value)
        if number is None or number < 1:
            fail(
                "codebook_version",
                _("Give the codebook version as a whole number from 1 to %(version)s."),
                version=codebook.VERSION,
            )
            return codebook.VERSION
        if number > codebook.VERSION:
            self._too_new(line, "codebook_version", number)
            return codebook.VERSION
        return number

    def _too_new(self, line: int, column: str, found: int) -> None:
        self.fail(
            line,
            self.where(line, column),
            _(
                "Codebook version %(found)s is newer than this Haven knows (up to "
                "%(version)s). Update Haven before importing this file."
            ),
            found=found,
            version=codebook.VERSION,
        )

    def contacts(self, value: Any, fail: Callable[..., None]) -> tuple[dt.date, ...]:
        if isinstance(value, str) and self.fmt == "csv":
            items: list[Any] = [part.strip() for part in value.split(";") if part.strip()]
        elif isinstance(value, list):
            items = value
        else:
            fail("contacts", _("Give the contact months as a list of YYYY-MM."))
            return ()
        days: set[dt.date] = set()
        for item in items:
            day = _month(item) if isinstance(item, str) else None
            if day is None:
                fail("contacts", _("Not a month (YYYY-MM): %(value)s."), value=_quote(item))
            elif self.today is not None and day > self.today:
                fail("contacts", _("A contact month in the future: %(value)s."), value=item)
            else:
                days.add(day)
        if not items:
            fail("contacts", _("Give at least one contact month (YYYY-MM)."))
        return tuple(sorted(days))

    def answer(self, question: codebook.Question, value: Any, fail: Callable[..., None]) -> Any:
        """The raw answer in codebook terms, for :func:`codebook.validate` to judge."""
        if self.fmt == "csv":
            if question.kind is Kind.MANY:
                return tuple(part.strip() for part in value.split(";") if part.strip())
            return value  # codebook.validate reads a number from its digits
        if question.kind is Kind.MANY:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                fail(question.name, _("Give a list of codes."))
                return _BAD
        elif question.kind is Kind.ONE:
            if not isinstance(value, str):
                fail(question.name, _("Give the code as text."))
                return _BAD
        elif value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            fail(question.name, _("Give a whole number, or null when not known."))
            return _BAD
        return value

    def reviewed(self, value: Any, fail: Callable[..., None]) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and self.fmt == "csv":
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        fail("reviewed", _("Give true or false."))
        return False


_BAD = object()
# codebook.validate's words for a ONE answer that is not an option.
_CHOOSE_ONE = "Choose one of the options."


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _month(text: str) -> dt.date | None:
    match = _MONTH.fullmatch(text.strip())
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    if year < 1900 or not 1 <= month <= 12:
        return None
    return dt.date(year, month, 1)


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= _QUOTE_MAX else text[: _QUOTE_MAX - 1] + "…"


def _shorten(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _quote(v) if isinstance(v, str) else v for k, v in params.items()}


# --- writing ------------------------------------------------------------------------------


def month(day: dt.date) -> str:
    """The export form of a contact day: its month."""
    return f"{day.year:04d}-{day.month:02d}"


def _months(days: Iterable[dt.date]) -> list[str]:
    return sorted({month(day) for day in days})


def csv_values(row: CaseRow) -> list[str]:
    """One case as CSV cells, in :data:`COLUMNS` order."""
    cells = [
        "" if row.case_id is None else str(row.case_id),
        str(row.codebook_version),
        ";".join(_months(row.contacts)),
    ]
    for question in codebook.QUESTIONS:
        value = row.record[question.name]
        if question.kind is Kind.MANY:
            cells.append(";".join(value))
        elif question.kind is Kind.NUMBER:
            cells.append("" if value is None else str(value))
        else:
            cells.append(value)
    cells.append("true" if row.reviewed else "false")
    return cells


def json_value(row: CaseRow) -> dict[str, Any]:
    """One case as a JSON object, keys in :data:`COLUMNS` order."""
    value: dict[str, Any] = {
        "case_id": None if row.case_id is None else str(row.case_id),
        "codebook_version": row.codebook_version,
        "contacts": _months(row.contacts),
    }
    for question in codebook.QUESTIONS:
        answer = row.record[question.name]
        value[question.name] = list(answer) if question.kind is Kind.MANY else answer
    value["reviewed"] = row.reviewed
    return value


def write_csv(rows: Iterable[CaseRow]) -> Iterator[str]:
    """The CSV file in text chunks (header first), never holding more than a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    pending = 1
    for row in rows:
        writer.writerow(csv_values(row))
        pending += 1
        if pending >= CHUNK_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def write_json(rows: Iterable[CaseRow]) -> Iterator[str]:
    """The JSON file in text chunks: one case per line inside ``cases``."""
    head = json.dumps({"format": FORMAT, "codebook_version": codebook.VERSION})
    yield head[:-1] + ', "cases": [\n'
    chunk: list[str] = []
    first = True
    for row in rows:
        chunk.append(("" if first else ",\n") + json.dumps(json_value(row), ensure_ascii=False))
        first = False
        if len(chunk) >= CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk) + ("\n" if not first else "") + "]}\n"


def write(fmt: str, rows: Iterable[CaseRow]) -> Iterator[str]:
    if fmt == "csv":
        return write_csv(rows)
    if fmt == "json":
        return write_json(rows)
    raise ValueError(f"unknown format {fmt!r}")
