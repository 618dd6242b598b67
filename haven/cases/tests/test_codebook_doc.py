"""docs/codebook.md keeps up with the codebook in code: every question and every code is
documented, and the documented examples are files Haven accepts."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from haven.cases import codebook, exchange

DOC = Path(__file__).resolve().parents[3] / "docs" / "codebook.md"


@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def sections(text: str) -> dict[str, str]:
    """Question name -> the text of its "### N. `name` — …" section."""
    parts = re.split(r"^### \d+\. `([a-z_]+)`", text, flags=re.MULTILINE)
    found = dict(zip(parts[1::2], parts[2::2], strict=True))
    return {name: body.split("\n## ", 1)[0] for name, body in found.items()}


def test_every_question_has_a_section_in_codebook_order(text: str) -> None:
    """One section per question, in the order of the form and the files."""
    assert list(sections(text)) == list(codebook.NAMES)


def test_every_code_is_in_its_question_s_table(text: str) -> None:
    """Each option's code appears as a table row of its own question, with its English
    label; the empty code (not applicable) is written as `""`."""
    by_question = sections(text)
    for question in codebook.QUESTIONS:
        body = by_question[question.name]
        for option in question.options:
            shown = f"`{option.code}`" if option.code else '`""`'
            row = re.search(rf"^\| {re.escape(shown)}[^|]* \| ([^|]+) \|", body, re.MULTILINE)
            assert row, f"{question.name}: code {option.code!r} is not documented"
            assert row[1].strip() == option.label, f"{question.name}.{option.code}"


def test_the_documented_version_and_audit_actions_are_current(text: str) -> None:
    """The version in the text is the code's, and every audited action is listed."""
    assert f"now **{codebook.VERSION}**" in text
    for action in (
        "case.code",
        "case.update",
        "case.correct",
        "cases.import",
        "cases.export",
        "transcript.read",
        "transcript.hold",
        "transcript.hold_release",
        "transcripts.purge",
    ):
        assert f"| `{action}` |" in text, action


def test_the_format_examples_are_accepted(text: str) -> None:
    """The CSV and JSON examples import cleanly and list the columns in file order."""
    csv_example = re.search(r"```csv\n(.*?)```", text, re.DOTALL)
    json_example = re.search(r"```json\n(.*?)```", text, re.DOTALL)
    assert csv_example and json_example
    assert csv_example[1].splitlines()[0].split(",") == list(exchange.COLUMNS)
    assert len(exchange.parse(csv_example[1].encode(), "csv")) == 3
    assert len(exchange.parse(json_example[1].encode(), "json")) == 1


def test_the_example_error_lines_are_real_messages(text: str) -> None:
    """The sample import report has the command's shape and messages the importer gives."""
    report = re.search(r"```text\n(.*?)```", text, re.DOTALL)
    assert report
    templates = [
        re.escape(message).replace("%\\(", "%(").replace("\\)s", ")s")
        for module in (exchange, codebook)
        for message in _marked_messages(Path(module.__file__))
    ]
    patterns = [re.sub(r"%\(\w+\)s", ".+", template) for template in templates]
    lines = report[1].splitlines()
    assert lines
    for line in lines:
        where, reason = line.split(": ", 1)
        assert re.fullmatch(r"line \d+, column [a-z_]+", where), line
        assert any(re.fullmatch(pattern, reason) for pattern in patterns), line


def _marked_messages(path: Path) -> list[str]:
    """Every string literal marked with ``_(...)`` in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"_", "gettext_noop"}
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]
