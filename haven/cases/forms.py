"""The coding form and the import form.

The coding form is generated from the codebook (one fieldset per question), so a question
added to the codebook appears on the form without touching this module or the templates.
It does not validate: :func:`haven.cases.codebook.validate`, called by the services, is the
one place that decides what a valid record is; this module only turns posted fields into
raw answers and codebook problems into translated sentences next to the right field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from haven.cases import codebook, exchange
from haven.cases.codebook import Kind

# Questions shown together in one block, because one only makes sense with the other: the
# band goes with the age, the number with the kinds of perpetrator, and the platform is
# only meaningful when the recruitment was through social media.
TOGETHER: tuple[tuple[str, ...], ...] = (
    ("age", "age_band"),
    ("perpetrators", "perpetrator_count"),
    ("recruitment", "platform"),
)
# Questions shown as an indented follow-up of the question before them.
FOLLOW_UP = frozenset({"age_band", "perpetrator_count", "platform"})
# The form asks the two questions every contact needs first (what kind of contact, how
# urgent), then the codebook's order. (Only the form: records, exports and the codebook
# keep the codebook's order.)
FIRST = ("contact_type", "urgency")
# A fresh form ticks nothing for these: the counsellor chooses. A default there would count
# a hurried test or prank chat as a victim, or a victim's case as not urgent, silently.
CHOSEN_BY_HAND = ("contact_type", "urgency")


def fresh_values() -> dict[str, Any]:
    """What a fresh coding form shows: the codebook's defaults ("unknown", nothing ticked),
    without an answer for the questions the counsellor must choose."""
    return {**codebook.defaults(), **dict.fromkeys(CHOSEN_BY_HAND)}


# An import file larger than this is refused before it is read: a spreadsheet of coded
# cases is a few megabytes even for many years of work.
IMPORT_MAX_BYTES = 20 * 1024 * 1024

EMPTY = "—"


def problem_text(problem: codebook.Problem) -> str:
    """A codebook problem as a translated sentence. Question names in it (for example the
    answers to clear for a contact without data) are shown as their translated labels."""
    params = dict(problem.params)
    names = params.get("names")
    if isinstance(names, str):
        # Labels can hold commas themselves ("Age in years, if told").
        params["names"] = "; ".join(
            gettext(codebook.BY_NAME[name].label) if name in codebook.BY_NAME else name
            for name in names.split(", ")
        )
    return gettext(problem.message) % params


def answer_text(question: codebook.Question, value: Any) -> str:
    """One answer as the translated words a person reads (codes never show)."""
    if question.kind is Kind.NUMBER:
        return EMPTY if value is None or value == "" else str(value)
    codes = list(value or ()) if question.kind is Kind.MANY else [value]
    if question.kind is Kind.MANY and not codes:
        return EMPTY
    if question.kind is Kind.ONE and value is None:
        return EMPTY
    labels = []
    for code in codes:
        try:
            labels.append(gettext(question.option(code).label))
        except KeyError:
            labels.append(str(code) if code not in (None, "") else EMPTY)
    return ", ".join(labels)


@dataclass(frozen=True)
class Answer:
    name: str
    label: str
    text: str


def summary(record: Mapping[str, Any]) -> list[Answer]:
    """A coded record as label/answer pairs, in codebook order."""
    return [
        Answer(
            question.name, gettext(question.label), answer_text(question, record.get(question.name))
        )
        for question in codebook.QUESTIONS
    ]


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def changes(detail: Mapping[str, Any]) -> list[Change]:
    """The ``changes`` an audit entry holds (question -> [old, new]) in readable words."""
    found = detail.get("changes")
    if not isinstance(found, Mapping):
        return []
    result = []
    for name in codebook.NAMES:
        if name not in found:
            continue
        question = codebook.BY_NAME[name]
        try:
            before, after = found[name]
        except (TypeError, ValueError):
            continue
        change = Change(
            gettext(question.label), answer_text(question, before), answer_text(question, after)
        )
        # "Nothing" to "none chosen" (a first coding) reads as no change at all.
        if change.before != change.after:
            result.append(change)
    return result


@dataclass(frozen=True)
class BoundOption:
    code: str
    label: str
    id: str
    checked: bool


@dataclass(frozen=True)
class BoundQuestion:
    name: str
    label: str
    kind: str
    help: str
    options: tuple[BoundOption, ...]
    value: str  # the text in a number field
    errors: tuple[str, ...]
    follow_up: bool

    @property
    def id(self) -> str:
        return f"q-{self.name}"

    @property
    def anchor(self) -> str:
        """The id of the control the error summary links to: the field itself, or the
        chosen option of a group (else its first option)."""
        if self.kind == Kind.NUMBER:
            return f"id_{self.name}"
        for option in self.options:
            if option.checked:
                return option.id
        return self.options[0].id if self.options else self.id

    @property
    def is_number(self) -> bool:
        return self.kind == Kind.NUMBER

    @property
    def is_many(self) -> bool:
        return self.kind == Kind.MANY

    @property
    def input_type(self) -> str:
        return "checkbox" if self.kind == Kind.MANY else "radio"

    @property
    def described_by(self) -> str:
        ids = []
        if self.help:
            ids.append(f"{self.name}-hint")
        if self.errors:
            ids.append(f"{self.name}-error")
        return " ".join(ids)


@dataclass(frozen=True)
class ErrorLink:
    anchor: str
    text: str


@dataclass
class CodingForm:
    """The coding form's state: the values shown and, after a refused save, the problems.

    ``values`` maps question names to what a field shows: a code (ONE), codes (MANY), a
    number or text (NUMBER). It can be a coded record, a draft or the defaults.
    """

    values: Mapping[str, Any] = field(default_factory=fresh_values)
    errors: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: QueryDict) -> CodingForm:
        """The form as posted. A group with nothing chosen is sent as empty, so that the
        codebook, not this form, says what is missing."""
        values: dict[str, Any] = {}
        for question in codebook.QUESTIONS:
            if question.kind is Kind.MANY:
                values[question.name] = tuple(data.getlist(question.name))
            elif question.kind is Kind.NUMBER:
                values[question.name] = (data.get(question.name) or "").strip()
            else:
                values[question.name] = data.get(question.name, "")
        return cls(values=values)

    def answers(self) -> dict[str, Any]:
        """Raw answers for the services (which validate them against the codebook)."""
        raw: dict[str, Any] = {}
        for question in codebook.QUESTIONS:
            value = self.values.get(question.name, question.default)
            if question.kind is Kind.MANY:
                raw[question.name] = list(_codes(value))
            elif question.kind is Kind.NUMBER:
                raw[question.name] = None if value in (None, "") else value
            else:
                raw[question.name] = "" if value is None else str(value)
        # A contact without data (silent, test, abusive) is not urgent unless chosen: a
        # prank chat can be finished with its contact type alone.
        if raw["contact_type"] in codebook.NO_DATA_CONTACT_TYPES and not raw["urgency"]:
            raw["urgency"] = codebook.BY_NAME["urgency"].default
        return raw

    def with_errors(self, invalid: codebook.Invalid) -> CodingForm:
        return CodingForm(
            values=self.values,
            errors={
                name: [problem_text(problem) for problem in problems]
                for name, problems in invalid.errors.items()
            },
        )

    @property
    def questions(self) -> list[BoundQuestion]:
        bound = []
        for question in codebook.QUESTIONS:
            value = self.values.get(question.name, question.default)
            chosen = set(_codes(value)) if question.kind is Kind.MANY else {value}
            bound.append(
                BoundQuestion(
                    name=question.name,
                    label=gettext(question.label),
                    kind=question.kind,
                    help=gettext(question.help) if question.help else "",
                    options=tuple(
                        BoundOption(
                            code=option.code,
                            label=gettext(option.label),
                            id=f"id_{question.name}_{index}",
                            checked=question.kind is not Kind.NUMBER and option.code in chosen,
                        )
                        for index, option in enumerate(question.options)
                    ),
                    value="" if value is None else str(value),
                    errors=tuple(self.errors.get(question.name, ())),
                    follow_up=question.name in FOLLOW_UP,
                )
            )
        return bound

    @property
    def groups(self) -> list[list[BoundQuestion]]:
        """The questions in codebook order, in blocks that stay together on screen."""
        by_name = {question.name: question for question in self.questions}
        together = {name: names for names in TOGETHER for name in names}
        blocks: list[list[BoundQuestion]] = []
        placed: set[str] = set()
        for name in (*FIRST, *(n for n in codebook.NAMES if n not in FIRST)):
            if name in placed:
                continue
            names = together.get(name, (name,))
            blocks.append([by_name[n] for n in names if n in by_name])
            placed.update(names)
        return blocks

    @property
    def error_links(self) -> list[ErrorLink]:
        """The error summary: every problem, linking to its field, in form order."""
        links = [ErrorLink("coding-form", text) for text in self.errors.get("", ())]
        for block in self.groups:
            for question in block:
                links.extend(ErrorLink(question.anchor, text) for text in question.errors)
        return links


def _codes(value: Any) -> Iterable[str]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(str(code) for code in value)
    except TypeError:
        return ()


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A CSV or JSON file in the format described in docs/codebook.md."),
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("", _("from the file name (.csv or .json)")), ("csv", "CSV"), ("json", "JSON")],
        initial="",
        required=False,
        widget=forms.RadioSelect,
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s."),
                params={"size": filesizeformat(IMPORT_MAX_BYTES)},
            )
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is not None and not cleaned.get("format"):
            guessed = exchange.format_for(upload.name or "")
            if guessed is None:
                self.add_error(
                    "format", _("The file name does not end in .csv or .json: choose the format.")
                )
            else:
                cleaned["format"] = guessed
        return cleaned
