"""The two questions a visitor may answer after a chat, and the figures made of the answers.

Plain Python, no Django (haven.feedback.selectors counts, the reports show). The texts are
English source strings, translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from haven.cases.codebook import gettext_noop
from haven.reports import disclosure


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    options: tuple[tuple[str, str], ...]  # (code, label)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "helped",
        gettext_noop("Did this chat help you?"),
        (
            ("yes", gettext_noop("Yes")),
            ("a_little", gettext_noop("A little")),
            ("no", gettext_noop("No")),
        ),
    ),
    Question(
        "come_back",
        gettext_noop("Would you come back to this chat?"),
        (
            ("yes", gettext_noop("Yes")),
            ("maybe", gettext_noop("Maybe")),
            ("no", gettext_noop("No")),
        ),
    ),
)
BY_KEY = {question.key: question for question in QUESTIONS}


def is_answer(question: str, code: str) -> bool:
    """Whether ``code`` answers ``question`` ("" is no answer, which is allowed)."""
    return code == "" or code in dict(BY_KEY[question].options)


def _percent(count: int | None, answered: int | None) -> float | None:
    if count is None or not answered:
        return None
    return round(100 * count / answered, 1)


def summarise(
    counts: Mapping[str, Mapping[str, int]], *, public: bool, threshold: int | None
) -> dict[str, Any]:
    """The figures: per question, the count per answer and the number who answered it.

    ``counts[question][code]`` holds the answers given (no answer is not counted). In a
    public report each question's counts go through the same disclosure control as every
    other line of figures (haven.reports.disclosure); a withheld count is ``None``, marked
    ``"withheld"`` whatever the reason. Percentages are of those who answered the question.
    """
    out = []
    for question in QUESTIONS:
        answers = counts.get(question.key, {})
        given = {code: int(answers.get(code, 0)) for code, _label in question.options}
        if public:
            line = disclosure.protect_line(
                given, threshold=threshold or disclosure.DEFAULT_THRESHOLD
            )
            cells = {code: (cell.shown, cell.reason) for code, cell in line.cells.items()}
            total = line.total
            answered = None if total is None else total.shown
            answered_withheld = None if total is None or total.reason is None else total.reason
        else:
            cells = {code: (value, None) for code, value in given.items()}
            answered, answered_withheld = sum(given.values()), None
        out.append(
            {
                "key": question.key,
                "text": question.text,
                "answered": answered,
                # Every withheld count is marked alike (why it is withheld would tell which
                # ones are below the threshold).
                "answered_withheld": None if answered_withheld is None else "withheld",
                "options": [
                    {
                        "code": code,
                        "label": label,
                        "count": cells[code][0],
                        "withheld": None if cells[code][1] is None else "withheld",
                        "percent": _percent(cells[code][0], answered),
                    }
                    for code, label in question.options
                ],
            }
        )
    return {"questions": out}
