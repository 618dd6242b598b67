"""docs/protocol.md is the reference for the wire protocol: its tables of frame types must
say what the code does. Each client frame type, with its fields, and each server frame type
is checked against haven.chat.protocol and haven.chat.events, so the two cannot disagree."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from haven.chat import events
from haven.chat.protocol import COUNSELLOR_FRAMES, VISITOR_FRAMES

DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"
ROW = re.compile(r"^\| \[`(?P<type>[a-z_]+)`\]\(#[^)]*\) \| (?P<rest>.*)$", re.MULTILINE)


def section(number: int) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = re.search(rf"^## {number}\. .*$", text, re.MULTILINE)
    assert start, f"no section {number}"
    end = re.search(r"^## \d+\. ", text[start.end() :], re.MULTILINE)
    return text[start.end() : start.end() + end.start()] if end else text[start.end() :]


def table(number: int) -> dict[str, set[str]]:
    """The summary table of a section: frame type -> its fields (from the second column)."""
    rows = {}
    for match in ROW.finditer(section(number)):
        fields = match["rest"].split(" | ")[0]
        rows[match["type"]] = set(re.findall(r"`([a-z_]+)`", fields))
    return rows


@pytest.mark.parametrize(
    ("number", "schema"), [(3, VISITOR_FRAMES), (4, COUNSELLOR_FRAMES)], ids=["visitor", "console"]
)
def test_every_client_frame_and_its_fields_are_in_the_table(number: int, schema: dict) -> None:  # type: ignore[type-arg]
    documented = table(number)
    assert set(documented) == set(schema)
    for frame_type, fields in schema.items():
        assert documented[frame_type] == {field.name for field in fields}, frame_type


def _server_types() -> set[str]:
    found = set()
    for member in typing.get_args(events.Event):
        (literal,) = typing.get_args(typing.get_type_hints(member)["type"])
        found.add(literal)
    return found


def test_every_server_frame_is_in_the_table() -> None:
    assert set(table(5)) == _server_types()


def test_every_frame_type_has_its_own_section() -> None:
    headings = set(re.findall(r"^### `([a-z_]+)`", DOC.read_text(encoding="utf-8"), re.MULTILINE))
    assert set(VISITOR_FRAMES) | set(COUNSELLOR_FRAMES) | _server_types() <= headings
