"""Words that suggest immediate danger, found in a waiting visitor's words. Pure Python.

A hint for the team, never a decision: a match raises the conversation in the queue and
marks it, so that a counsellor reads it sooner; it decides nothing about the visitor, and
no match proves there is no danger. The list is the team's own (supervisors keep it).

Matching ignores case and accents, and a term must stand as whole words ("bang" does not
match "bangkok"); spaces in a term match any white space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


def normalise(text: str) -> str:
    """Lower case without accents ("Bén" -> "ben"), so that spelling variants match."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def compile_terms(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for all the terms (None when there are none). Longer terms first, so
    that the longest match is the one found."""
    cleaned = {" ".join(normalise(term).split()) for term in terms}
    cleaned.discard("")
    if not cleaned:
        return None
    alternatives = [
        r"\s+".join(re.escape(word) for word in term.split())
        for term in sorted(cleaned, key=lambda t: (-len(t), t))
    ]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def found(pattern: re.Pattern[str] | None, text: str) -> bool:
    """Whether ``text`` holds one of the terms of ``pattern``."""
    return pattern is not None and pattern.search(normalise(text)) is not None
