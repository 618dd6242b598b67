"""The CSV/JSON format for coded cases (haven/cases/exchange.py), and the import and export
services built on it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest

from haven.audit.models import AuditEntry
from haven.cases import codebook, exchange, services
from haven.cases.exchange import CaseRow, ImportRefused
from haven.cases.models import Case, CaseContact
from haven.cases.tests.test_services import ANSWERS, chat, code
from haven.chat import services as chat_services
from haven.chat.services import NotFound

ID_1 = uuid.UUID("0b5c8f3e-6d2a-4f7e-9c1b-2a3d4e5f6a7b")
ID_2 = uuid.UUID("1c6d9f4f-7e3b-4a8f-8d2c-3b4e5f6a7b8c")


def row(**changes: Any) -> CaseRow:
    answers = {**ANSWERS, **changes.pop("answers", {})}
    fields: dict[str, Any] = {
        "case_id": ID_1,
        "codebook_version": codebook.VERSION,
        "contacts": (dt.date(2025, 1, 1), dt.date(2025, 3, 1)),
        "record": codebook.validate(answers),
        "reviewed": False,
        **changes,
    }
    return CaseRow(**fields)


def csv_text(*rows: CaseRow) -> str:
    return "".join(exchange.write_csv(rows))


def json_text(*rows: CaseRow) -> str:
    return "".join(exchange.write_json(rows))


def errors(data: str | bytes, fmt: str, **kwargs: Any) -> list[tuple[int, str, str]]:
    """Every problem ``parse`` reports, as (line, column, formatted message)."""
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(ImportRefused) as caught:
        exchange.parse(raw, fmt, **kwargs)
    return [(e.line, e.column, e.message % dict(e.params)) for e in caught.value.errors]


def header() -> str:
    return ",".join(exchange.COLUMNS)


def cells(record_row: CaseRow, **replace: str) -> str:
    """One CSV line for ``record_row`` with some cells replaced by raw text."""
    values = exchange.csv_values(record_row)
    for name, value in replace.items():
        values[exchange.COLUMNS.index(name)] = value
    return ",".join(values)


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_what_is_written_reads_back_the_same(fmt: str) -> None:
    """Export then import gives the same ids, versions, months, answers and review marks."""
    rows = [
        row(),
        row(
            case_id=ID_2,
            reviewed=True,
            answers={"gender": "boy", "age": None, "platform": "unknown"},
        ),
        row(case_id=None, contacts=(dt.date(2024, 12, 1),), record=codebook.defaults()),
    ]
    text = "".join(exchange.write(fmt, rows))
    back = exchange.parse(text.encode(), fmt)
    assert [dict(r.record) for r in back] == [dict(r.record) for r in rows]
    assert [(r.case_id, r.codebook_version, r.contacts, r.reviewed) for r in back] == [
        (r.case_id, r.codebook_version, r.contacts, r.reviewed) for r in rows
    ]


def test_the_csv_has_the_documented_columns_and_values() -> None:
    """Header in codebook order; codes; ``;`` between months and between MANY codes; an
    unknown number is empty; reviewed is true/false."""
    text = csv_text(
        row(
            contacts=(dt.date(2025, 1, 9), dt.date(2025, 1, 20), dt.date(2025, 2, 3)),
            answers={"exploitation": ["sexual", "criminal"]},
        )
    )
    lines = text.splitlines()
    assert lines[0].split(",") == list(exchange.COLUMNS)
    values = dict(zip(exchange.COLUMNS, lines[1].split(","), strict=True))
    assert values["case_id"] == str(ID_1)
    assert values["contacts"] == "2025-01;2025-02"  # months only: days are not exported
    assert values["exploitation"] == "sexual;criminal"
    assert values["perpetrator_count"] == ""
    assert values["age"] == "14"
    assert values["reviewed"] == "false"


def test_the_json_is_one_object_with_format_version_and_cases() -> None:
    """JSON keeps types: lists for months and MANY answers, numbers or null, booleans."""
    document = json.loads(json_text(row(reviewed=True)))
    assert document["format"] == "haven-cases"
    assert document["codebook_version"] == codebook.VERSION
    [case] = document["cases"]
    assert list(case) == list(exchange.COLUMNS)
    assert case["contacts"] == ["2025-01", "2025-03"]
    assert case["exploitation"] == ["sexual"]
    assert case["perpetrator_count"] is None
    assert case["reviewed"] is True
    assert json.loads(json_text()) == {"format": "haven-cases", "codebook_version": 1, "cases": []}


def test_large_exports_come_in_chunks() -> None:
    """The serialisers yield pieces as they go, so a big export is never one string."""
    rows = [row(case_id=uuid.uuid4()) for _ in range(exchange.CHUNK_ROWS * 2 + 3)]
    assert len(list(exchange.write_csv(iter(rows)))) == 3
    assert len(list(exchange.write_json(iter(rows)))) >= 3
    assert len(json.loads(json_text(*rows))["cases"]) == len(rows)


def test_csv_as_spreadsheets_write_it_is_accepted() -> None:
    """A byte-order mark, CRLF line ends, blank lines, trailing empty cells, columns in
    another order, upper-case headers and spaces around values are all fine."""
    columns = list(reversed(exchange.COLUMNS))
    values = dict(zip(exchange.COLUMNS, exchange.csv_values(row()), strict=True))
    values["reviewed"] = "WAAR"  # a Dutch spreadsheet's TRUE
    values["gender"] = " girl "
    line = ",".join(values[name] for name in columns)
    text = "\ufeff" + ",".join(c.upper() for c in columns) + "\r\n\r\n" + line + ",,\r\n\r\n"
    [read] = exchange.parse(text.encode(), "csv")
    assert read.record["gender"] == "girl"
    assert read.reviewed is True
    assert read.line == 3


def test_on_import_a_month_becomes_its_first_day() -> None:
    """Contacts are read as the first day of each month, repeated months once."""
    text = header() + "\n" + cells(row(), contacts="2025-02; 2024-11;2025-02;") + "\n"
    [read] = exchange.parse(text.encode(), "csv")
    assert read.contacts == (dt.date(2024, 11, 1), dt.date(2025, 2, 1))


def test_an_empty_case_id_means_a_new_case() -> None:
    """A spreadsheet's own rows need no id; JSON may give null."""
    [read] = exchange.parse((header() + "\n" + cells(row(), case_id="") + "\n").encode(), "csv")
    assert read.case_id is None
    assert exchange.parse(json_text(row(case_id=None)).encode(), "json")[0].case_id is None


def test_format_for_reads_the_extension() -> None:
    assert exchange.format_for("cases.CSV") == "csv"
    assert exchange.format_for("export.2025.json") == "json"
    assert exchange.format_for("cases.xlsx") is None
    assert exchange.format_for("cases") is None


# --- CSV problems ------------------------------------------------------------------------


def test_every_bad_csv_row_is_reported_with_its_line_and_column() -> None:
    """All rows are checked and every problem is listed in file order (physical lines: a
    quoted value over two lines moves the lines after it), not only the first."""
    good = row()
    text = "\n".join(
        [
            header(),
            cells(good, case_id=""),  # line 2: fine
            cells(good, case_id="", gender="female", contacts='"2025-01;\n2025-13"'),  # 3-4
            cells(good, case_id="nope", age="fourteen"),  # line 5
            cells(good, case_id="", codebook_version="99", reviewed="maybe"),  # line 6
            cells(good, case_id="", recruitment="in_person"),  # line 7
        ]
    )
    assert errors(text, "csv") == [
        (3, "contacts", "Not a month (YYYY-MM): 2025-13."),
        (
            3,
            "gender",
            "Not an option: female. The codes are: girl, boy, non_binary, unknown.",
        ),
        (
            5,
            "case_id",
            "Not a case id (a UUID such as 0b5c8f3e-6d2a-4f7e-9c1b-2a3d4e5f6a7b): nope. "
            "Leave it empty for a new case.",
        ),
        (5, "age", "Enter a whole number, or leave it empty."),
        (
            6,
            "codebook_version",
            f"Codebook version 99 is newer than this Haven knows (up to {codebook.VERSION}). "
            "Update Haven before importing this file.",
        ),
        (6, "reviewed", "Give true or false."),
        (7, "platform", "A platform is only given when recruited through social media."),
    ]


def test_the_header_must_name_every_column_once() -> None:
    """Unknown, repeated and missing columns are reported on line 1, and the rows are
    still checked with the columns that are there."""
    columns = [c for c in exchange.COLUMNS if c not in ("gender", "reviewed")]
    text = ",".join([*columns, "name", "age"]) + "\n"
    values = dict(zip(exchange.COLUMNS, exchange.csv_values(row(case_id=None)), strict=True))
    text += ",".join([*(values[c] for c in columns), "someone", "14"]) + "\n"
    text += ",".join([*(values[c] if c != "urgency" else "soon" for c in columns), "x", "9"])
    found = errors(text, "csv")
    assert found[:4] == [
        (1, "name", "Unknown column."),
        (1, "age", "This column appears twice."),
        (1, "gender", "Missing column."),
        (1, "reviewed", "Missing column."),
    ]
    assert [(line, column) for line, column, _m in found[4:]] == [(3, "urgency")]


def test_a_row_with_the_wrong_number_of_values_is_reported() -> None:
    """A missing cell shifts every value after it, so the row is refused as a whole."""
    line = ",".join(exchange.csv_values(row())[:-2])
    assert errors(header() + "\n" + line + "\n", "csv") == [
        (
            2,
            "",
            f"This line has {len(exchange.COLUMNS) - 2} values; the header has "
            f"{len(exchange.COLUMNS)}.",
        )
    ]


def test_a_file_that_ends_inside_quotes_is_reported_where_the_quote_opened() -> None:
    """The rows before it are still checked and reported."""
    text = header() + "\n" + cells(row(), gender="x") + "\n" + cells(row(), age='"14') + "\n"
    found = errors(text, "csv")
    assert found[0][:2] == (2, "gender")
    assert found[1][0] == 3
    assert found[1][2].startswith("A quoted value is never closed")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf \r\n\r\n", "The file is empty."),
        (header().encode() + b"\r\n", "The file has a header but no cases."),
        (
            header().encode() + b"\n" + b"\n" + b"caf\xe9\n",
            "The file is not UTF-8 text (first problem on line 3).",
        ),
    ],
)
def test_problems_with_the_whole_csv_file_are_on_line_0(data: bytes, message: str) -> None:
    assert errors(data, "csv") == [(0, "", message)]


def test_contacts_must_be_months_not_in_the_future_and_at_least_one() -> None:
    """Each contact is a real YYYY-MM month up to the current one; a case needs one."""
    good = row()
    text = "\n".join(
        [
            header(),
            cells(good, case_id="", contacts="2025-3"),
            cells(good, case_id="", contacts="2025-00"),
            cells(good, case_id="", contacts="2026-04"),
            cells(good, case_id="", contacts=""),
            cells(good, case_id="", contacts="2026-03"),
        ]
    )
    assert errors(text, "csv", today=dt.date(2026, 3, 2)) == [
        (2, "contacts", "Not a month (YYYY-MM): 2025-3."),
        (3, "contacts", "Not a month (YYYY-MM): 2025-00."),
        (4, "contacts", "A contact month in the future: 2026-04."),
        (5, "contacts", "Give at least one contact month (YYYY-MM)."),
    ]


def test_the_codebook_version_must_be_a_known_whole_number() -> None:
    good = row()
    text = "\n".join(
        [header(), cells(good, codebook_version=""), cells(good, case_id="", codebook_version="0")]
    )
    message = f"Give the codebook version as a whole number from 1 to {codebook.VERSION}."
    assert errors(text, "csv") == [
        (2, "codebook_version", message),
        (3, "codebook_version", message),
    ]


def test_case_ids_must_be_unique_in_the_file_and_new_to_haven() -> None:
    """A repeated id is reported on each later line; an id Haven already has (as the
    ``existing`` lookup says) on every line that uses it."""
    text = csv_text(row(), row(case_id=ID_2), row(), row(case_id=ID_2))
    looked_up: list[list[uuid.UUID]] = []

    def existing(ids: list[uuid.UUID]) -> list[uuid.UUID]:
        looked_up.append(sorted(ids))
        return [ID_2]

    assert errors(text, "csv", existing=existing) == [
        (3, "case_id", "A case with this id is already in Haven; an import never replaces one."),
        (4, "case_id", "The same case id is used earlier in the file (line 2)."),
        (5, "case_id", "The same case id is used earlier in the file (line 3)."),
        (5, "case_id", "A case with this id is already in Haven; an import never replaces one."),
    ]
    assert looked_up == [sorted([ID_1, ID_2])]


def test_long_values_are_shortened_in_messages() -> None:
    """A huge cell does not make a huge report."""
    [(_line, _column, message)] = errors(
        header() + "\n" + cells(row(), urgency="x" * 5000) + "\n", "csv"
    )
    assert len(message) < 300


def test_an_unknown_format_is_refused() -> None:
    assert errors(b"anything", "xlsx") == [(0, "", "Choose a CSV or JSON file.")]


# --- JSON problems -----------------------------------------------------------------------


def document(*cases: dict[str, Any], **top: Any) -> str:
    return json.dumps({"format": "haven-cases", "codebook_version": 1, "cases": list(cases), **top})


def case_json(**changes: Any) -> dict[str, Any]:
    return {**exchange.json_value(row(case_id=None)), **changes}


def test_every_bad_json_case_is_reported_by_its_position() -> None:
    """The "line" of a JSON problem is the case's position in "cases" (from 1), and the
    column says so too."""
    bad = case_json(gender=3, exploitation="sexual", age="14", reviewed="yes", colour="red")
    del bad["urgency"]
    text = document(
        case_json(), bad, "not an object", case_json(platform="tiktok", recruitment="other")
    )
    assert errors(text, "json") == [
        (2, "colour (case 2)", "Unknown key."),
        (2, "age (case 2)", "Give a whole number, or null when not known."),
        (2, "gender (case 2)", "Give the code as text."),
        (2, "exploitation (case 2)", "Give a list of codes."),
        (2, "urgency (case 2)", "Missing key."),
        (2, "reviewed (case 2)", "Give true or false."),
        (3, "(case 3)", "A case must be a JSON object."),
        (4, "platform (case 4)", "A platform is only given when recruited through social media."),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", [(0, "", "This is not valid JSON (near line 1, position 2).")]),
        ('{"a": NaN}', [(0, "", "This is not valid JSON (near line 1, position 1).")]),
        ("[]", [(0, "", 'The file must hold one JSON object with "format" and "cases".')]),
        (
            '{"format": "other", "cases": []}',
            [(0, "format", 'This is not a Haven cases file: "format" must be "haven-cases".')],
        ),
        (
            json.dumps({"format": "haven-cases", "codebook_version": 1, "cases": {}}),
            [(0, "cases", '"cases" must be a list of cases.')],
        ),
        (
            json.dumps({"format": "haven-cases", "codebook_version": 1, "cases": []}),
            [(0, "cases", "The file holds no cases.")],
        ),
    ],
)
def test_problems_with_the_whole_json_file(text: str, expected: list[Any]) -> None:
    assert errors(text, "json") == expected


def test_the_json_header_is_checked_too() -> None:
    """A newer codebook version, a missing version and unknown top-level keys are refused;
    the cases are still checked."""
    text = json.dumps(
        {
            "format": "haven-cases",
            "codebook_version": 7,
            "by": "x",
            "cases": [case_json(gender="x")],
        }
    )
    found = errors(text, "json")
    assert [(line, column) for line, column, _m in found] == [
        (0, "by"),
        (0, "codebook_version"),
        (1, "gender (case 1)"),
    ]
    text = json.dumps({"format": "haven-cases", "cases": [case_json()]})
    assert errors(text, "json") == [
        (0, "codebook_version", "Give the codebook version as a whole number.")
    ]


# --- the services ------------------------------------------------------------------------


@pytest.fixture
def supervisor(make_staff):  # type: ignore[no-untyped-def]
    return make_staff("sara", "supervisor")


@pytest.fixture
def analyst(make_staff):  # type: ignore[no-untyped-def]
    return make_staff("ali", "analyst")


def export(actor: Any, fmt: str) -> str:
    return "".join(services.cases_export(actor=actor, fmt=fmt))


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_imports_into_an_empty_haven_with_the_same_answers(
    clock, fmt, counsellor, supervisor, analyst
) -> None:
    """Round trip through the services: every coded case comes back with its id, codebook
    version, answers, contact months and review mark, marked as imported."""
    first = code(counsellor, chat(counsellor))
    clock.advance(days=40)
    second = code(counsellor, chat(counsellor), gender="boy", age=None, age_band="16_17")
    services.case_correct(
        actor=supervisor, case_id=second.id, answers={**ANSWERS, "gender": "boy", "age": 17}
    )
    clock.advance(days=1)
    # A returning visitor: a second contact for the first case.
    later = chat(counsellor, end=False)
    later.case = first
    later.save(update_fields=["case"])
    code(counsellor, later)
    before = {case.id: (case.answers(), case.codebook_version) for case in Case.objects.all()}
    months = {
        c.id: sorted({exchange.month(x.on) for x in c.contacts.all()}) for c in Case.objects.all()
    }
    assert months[first.id] == ["2026-03", "2026-04"]
    data = export(analyst, fmt).encode()

    Case.objects.all().delete()
    imported = services.cases_import_file(actor=supervisor, data=data, fmt=fmt, filename=f"x.{fmt}")
    assert len(imported) == 2
    after = {case.id: (case.answers(), case.codebook_version) for case in Case.objects.all()}
    assert after == before
    for case in Case.objects.all():
        assert case.imported
        assert sorted(exchange.month(x.on) for x in case.contacts.all()) == months[case.id]
        assert all(x.on.day == 1 for x in case.contacts.all())
    assert Case.objects.get(pk=second.id).reviewed_by == supervisor
    assert Case.objects.get(pk=first.id).reviewed_at is None
    [entry] = AuditEntry.objects.filter(action="cases.import")
    assert entry.actor == supervisor
    assert entry.detail == {"format": fmt, "rows": 2, "file": f"x.{fmt}"}


@pytest.mark.django_db
def test_a_bad_file_imports_nothing_and_reports_every_bad_row(supervisor) -> None:
    """One bad row keeps every good row out too; each bad row is listed by line."""
    Case.objects.create(created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), id=ID_2)
    good = row(case_id=None)
    text = "\n".join(
        [
            header(),
            cells(good),
            cells(good, gender="x"),
            cells(good, case_id=str(ID_2)),
            cells(good),
            cells(good, contacts="2099-01"),
        ]
    )
    with pytest.raises(ImportRefused) as caught:
        services.cases_import_file(actor=supervisor, data=text.encode(), fmt="csv")
    assert [(e.line, e.column) for e in caught.value.errors] == [
        (3, "gender"),
        (4, "case_id"),
        (6, "contacts"),
    ]
    assert list(Case.objects.values_list("pk", flat=True)) == [ID_2]
    assert not CaseContact.objects.exists()
    assert not AuditEntry.objects.filter(action="cases.import").exists()


@pytest.mark.django_db
def test_rows_without_an_id_become_new_cases(supervisor) -> None:
    """An organisation's own spreadsheet has no ids: each row gets a fresh one."""
    text = csv_text(row(case_id=None), row(case_id=None, reviewed=True))
    created = services.cases_import_file(actor=supervisor, data=text.encode(), fmt="csv")
    assert len({case.id for case in created}) == 2
    assert Case.objects.filter(imported=True, coded_by=supervisor).count() == 2
    assert CaseContact.objects.count() == 4


@pytest.mark.django_db
def test_only_a_supervisor_imports(make_counsellor, analyst) -> None:
    """Anyone else gets "not found" and nothing of the file is read."""
    for actor in (make_counsellor("anna"), analyst):
        with pytest.raises(NotFound):
            services.cases_import_file(actor=actor, data=b"not even a file", fmt="csv")
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_only_supervisors_and_analysts_export_and_each_export_is_audited(
    counsellor, supervisor, analyst
) -> None:
    """The audit entry (format and row count) is written when the export is asked for,
    before any row is read; a counsellor gets "not found" and no entry."""
    code(counsellor, chat(counsellor))
    with pytest.raises(NotFound):
        services.cases_export(actor=counsellor, fmt="csv")
    chunks = services.cases_export(actor=analyst, fmt="json")
    [entry] = AuditEntry.objects.filter(action="cases.export")
    assert entry.actor == analyst
    assert entry.detail == {"format": "json", "rows": 1}
    assert chunks.rows == 1
    assert len(json.loads("".join(chunks))["cases"]) == 1
    export(supervisor, "csv")
    assert AuditEntry.objects.filter(action="cases.export").count() == 2
    with pytest.raises(ValueError):
        services.cases_export(actor=analyst, fmt="xlsx")


@pytest.mark.django_db
def test_only_coded_cases_are_exported(counsellor, analyst) -> None:
    """A case made only to hold a return code is not coded yet and not exported."""
    running = chat(counsellor, end=False)
    services.return_code_issue(conversation_id=running.id)
    coded = code(counsellor, chat(counsellor))
    cases = json.loads(export(analyst, "json"))["cases"]
    assert [case["case_id"] for case in cases] == [str(coded.id)]


@pytest.mark.django_db
def test_an_export_never_contains_a_transcript(counsellor, analyst) -> None:
    """Planted words from a message and a hold reason appear in neither format."""
    planted = "Zebrapaard-Ochtendmist-7731"
    conversation = chat(counsellor, end=False, text=f"synthetic words {planted}")
    chat_services.message_send(
        conversation_id=conversation.id,
        sender="counsellor",
        text=f"reply {planted}",
        client_id=uuid.uuid4().hex,
        author=counsellor,
    )
    chat_services.transcript_hold_place(
        actor=counsellor, conversation_id=conversation.id, reason=f"hold {planted}"
    )
    code(counsellor, conversation)
    for fmt in ("csv", "json"):
        text = export(analyst, fmt)
        assert str(Case.objects.get().id) in text
        assert planted.lower() not in text.lower()
        assert "synthetic" not in text


@pytest.mark.django_db
def test_an_export_reads_the_database_in_batches(monkeypatch, counsellor, analyst) -> None:
    """Paging by id returns every case exactly once, whatever the batch size."""
    monkeypatch.setattr(services, "_BATCH", 2)
    ids = {str(code(counsellor, chat(counsellor)).id) for _ in range(5)}
    cases = json.loads(export(analyst, "json"))["cases"]
    assert sorted(case["case_id"] for case in cases) == sorted(ids)
    lines = export(analyst, "csv").splitlines()
    assert len(lines) == 6


def test_an_older_file_may_lack_a_question_added_later(monkeypatch) -> None:
    """Versioning: in a (simulated) codebook version 2 with one new question, a version 1
    row without that column is read with the question's default and keeps version 1; a
    version 2 row must have it."""
    old_file = csv_text(row(codebook_version=1))  # written before the new question existed
    new = codebook.Question(
        "new_question",
        "A question added in version 2",
        codebook.Kind.ONE,
        (codebook.Option("a", "a"), codebook.Option("unknown", "unknown")),
        default="unknown",
        since=2,
    )
    questions = (*codebook.QUESTIONS, new)
    monkeypatch.setattr(codebook, "VERSION", 2)
    monkeypatch.setattr(codebook, "QUESTIONS", questions)
    monkeypatch.setattr(codebook, "NAMES", tuple(q.name for q in questions))
    monkeypatch.setattr(codebook, "BY_NAME", {q.name: q for q in questions})
    monkeypatch.setattr(exchange, "COLUMNS", (*exchange.COLUMNS[:-1], new.name, "reviewed"))
    monkeypatch.setattr(exchange, "_LATER_QUESTIONS", {new.name: 2})
    [read] = exchange.parse(old_file.encode(), "csv")
    assert read.codebook_version == 1
    assert read.record["new_question"] == "unknown"
    newer = old_file.replace(",1,2025-01", ",2,2025-01")
    assert errors(newer, "csv") == [
        (2, "new_question", "Missing column (the question is in codebook version 2).")
    ]


@pytest.mark.django_db
def test_a_large_file_imports_in_batches(monkeypatch, supervisor) -> None:
    """Thousands of rows are checked against existing ids and stored batch by batch."""
    monkeypatch.setattr(services, "_BATCH", 300)
    rows = [row(case_id=uuid.uuid4()) for _ in range(2500)]
    created = services.cases_import_file(actor=supervisor, data=csv_text(*rows).encode(), fmt="csv")
    assert len(created) == Case.objects.count() == 2500
    assert CaseContact.objects.count() == 5000
    with pytest.raises(ImportRefused) as caught:
        services.cases_import_file(actor=supervisor, data=csv_text(*rows[-3:]).encode(), fmt="csv")
    assert [e.line for e in caught.value.errors] == [2, 3, 4]
