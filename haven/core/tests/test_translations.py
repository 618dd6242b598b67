"""Dutch is complete and the compiled catalogues match their sources."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def parse_po(path: Path) -> tuple[dict[str, list[str]], set[str]]:
    """A minimal .po reader: msgid -> msgstr forms, and the ids flagged fuzzy.

    An entry with a context is keyed "context\x04msgid", as gettext stores it.
    """
    entries: dict[str, list[str]] = {}
    fuzzy: set[str] = set()
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        flagged = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        current = None
        parts: dict[str, list[str]] = {}
        for line in lines:
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) (".*")$', line)
            if match:
                current = match.group(1)
                parts[current] = [ast.literal_eval(match.group(2))]
            elif line.startswith('"') and current:
                parts[current].append(ast.literal_eval(line))
        if "msgid" not in parts:
            continue
        msgid = "".join(parts["msgid"])
        if "msgctxt" in parts:
            msgid = "".join(parts["msgctxt"]) + "\x04" + msgid
        strs = ["".join(v) for k, v in sorted(parts.items()) if k.startswith("msgstr")]
        entries[msgid] = strs
        if flagged:
            fuzzy.add(msgid)
    return entries, fuzzy


def test_every_dutch_string_is_translated() -> None:
    entries, fuzzy = parse_po(LOCALE / "nl" / "LC_MESSAGES" / "django.po")
    missing = [msgid for msgid, strs in entries.items() if msgid and not all(strs)]
    assert missing == []
    assert fuzzy - {""} == set()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_compiled_catalogue_matches_the_source(language: str) -> None:
    """Run `haven compilemessages` after editing a .po file; this catches a stale .mo."""
    folder = LOCALE / language / "LC_MESSAGES"
    entries, _ = parse_po(folder / "django.po")
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, strs in entries.items():
        if not msgid or not strs[0]:
            continue
        context, _sep, text = msgid.rpartition("\x04")
        found = compiled.pgettext(context, text) if context else compiled.gettext(text)
        assert found == strs[0], msgid
