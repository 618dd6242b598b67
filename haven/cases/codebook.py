"""The codebook: what a counsellor registers about a case, as codes. Plain Python, no Django.

Everything that reads or writes coded cases (the form, import and export, the figures) is
driven by this one table, so they cannot drift apart. ``docs/codebook.md`` describes it
for people; a test checks that the document names every question and code.

Versioning: ``VERSION`` is stored with each coded case. A change that adds a question or an
option raises the version; codes are never reused for a different meaning and never
removed, so figures over cases coded under different versions stay comparable. A new
question gets a default (usually ``unknown``) that older cases are read as.

Labels are English source strings marked for translation with ``gettext_noop``; the Django
layer translates them for display (Dutch is the default language). Codes are stable ASCII
identifiers and are what is stored, imported and exported.

Alignment (where a category fits; see docs/codebook.md): ``chi`` names the nearest Child
Helpline International data-framework category, ``ctdc`` the nearest variable of the IOM
Human Trafficking Case Data Standard as published in the CTDC codebook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

VERSION = 1

# The lowest and highest age in years the form accepts. The youngest victim the knowledge
# centre reported was nine; a few years of margin on both sides avoids refusing a true age.
AGE_MIN = 4
AGE_MAX = 99
# The most perpetrators one case can record; more is recorded as this many.
PERPETRATORS_MAX = 50


def gettext_noop(message: str) -> str:
    """Marks a label for translation without translating it here (see module docstring)."""
    return message


class Kind(StrEnum):
    ONE = "one"  # exactly one option
    MANY = "many"  # any number of options, possibly none
    NUMBER = "number"  # a whole number, or empty when not known


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    chi: str = ""
    ctdc: str = ""


@dataclass(frozen=True)
class Question:
    name: str
    label: str
    kind: Kind
    options: tuple[Option, ...] = ()
    default: Any = None
    help: str = ""
    chi: str = ""
    ctdc: str = ""
    since: int = 1  # the codebook version that introduced the question
    # For MANY questions: an option that cannot be combined with any other.
    exclusive: str = ""
    # Only asked when the contact is about a victim (not for silent, test or abusive contacts).
    victim_only: bool = True

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(option.code for option in self.options)

    def option(self, code: str) -> Option:
        for option in self.options:
            if option.code == code:
                return option
        raise KeyError(code)


_ = gettext_noop

YES_NO_UNKNOWN = (
    Option("yes", _("yes")),
    Option("no", _("no")),
    Option("unknown", _("unknown")),
)

# Contact types that describe a victim (counted in the figures) and those that carry no data.
VICTIM_CONTACT_TYPES = frozenset({"self", "about_victim"})
NO_DATA_CONTACT_TYPES = frozenset({"silent", "test", "abusive"})

# Age bands. A told age is placed in its band automatically; otherwise the counsellor may
# estimate a band. The bands split at 12, 16 and 18 because the figures report minors,
# adults, and among minors those 15 or younger.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under_12", 0, 11),
    ("12_15", 12, 15),
    ("16_17", 16, 17),
    ("18_24", 18, 24),
    ("25_34", 25, 34),
    ("35_plus", 35, None),
)
MINOR_BANDS = frozenset({"under_12", "12_15", "16_17"})
UP_TO_15_BANDS = frozenset({"under_12", "12_15"})


def band_for_age(age: int) -> str:
    """The band code a whole age in years falls in."""
    for code, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return code
    raise ValueError(f"no band for age {age}")


PARENT_CODES = ("father", "mother", "stepfather", "stepmother")

QUESTIONS: tuple[Question, ...] = (
    Question(
        "contact_type",
        _("Contact type"),
        Kind.ONE,
        (
            Option("self", _("victim, about themselves"), chi="counselling contact"),
            Option("about_victim", _("someone else, about a victim"), chi="third-party contact"),
            Option("silent", _("no data: silent contact"), chi="silent contact"),
            Option("test", _("no data: test contact"), chi="testing contact"),
            Option("abusive", _("no data: abusive contact"), chi="abusive contact"),
        ),
        default="self",
        victim_only=False,
        chi="contact type",
    ),
    Question(
        "age",
        _("Age in years, if told"),
        Kind.NUMBER,
        help=_("Leave empty if the age was not told. Then choose an estimated age band."),
        ctdc="ageBroad (derived)",
    ),
    Question(
        "age_band",
        _("Age band (estimated if the age was not told)"),
        Kind.ONE,
        (
            Option("under_12", _("under 12"), ctdc="ageBroad 0--8 / 9--17"),
            Option("12_15", _("12 to 15"), ctdc="ageBroad 9--17"),
            Option("16_17", _("16 or 17"), ctdc="ageBroad 9--17"),
            Option("18_24", _("18 to 24"), ctdc="ageBroad 18--20 / 21--23 / 24--26"),
            Option("25_34", _("25 to 34"), ctdc="ageBroad 24--26 / 27--29 / 30--38"),
            Option("35_plus", _("35 or older"), ctdc="ageBroad 30--38 and older"),
            Option("unknown", _("unknown")),
        ),
        default="unknown",
        chi="age group",
        ctdc="majorityStatus",
    ),
    Question(
        "gender",
        _("Gender"),
        Kind.ONE,
        (
            Option("girl", _("girl or woman"), chi="female", ctdc="gender Female"),
            Option("boy", _("boy or man"), chi="male", ctdc="gender Male"),
            Option("non_binary", _("non-binary"), chi="other", ctdc="gender Transgender/NB"),
            Option("unknown", _("unknown"), chi="unknown"),
        ),
        default="unknown",
        chi="gender",
        ctdc="gender",
    ),
    Question(
        "exploitation",
        _("Form of exploitation"),
        Kind.MANY,
        (
            Option(
                "sexual", _("sexual"), chi="commercial sexual exploitation", ctdc="isSexualExploit"
            ),
            Option("labour", _("labour"), chi="child labour", ctdc="isForcedLabour"),
            Option("criminal", _("criminal (forced to commit crimes)"), ctdc="isOtherExploit"),
            Option("other", _("other"), ctdc="isOtherExploit"),
        ),
        default=(),
        help=_("Choose all that apply. Leave empty if unknown."),
        chi="abuse and violence",
        ctdc="typeOfExploitConcatenated",
    ),
    Question(
        "perpetrators",
        _("Who exploits"),
        Kind.MANY,
        (
            Option("father", _("father"), ctdc="recruiterRelationFamily"),
            Option("mother", _("mother"), ctdc="recruiterRelationFamily"),
            Option("stepfather", _("stepfather"), ctdc="recruiterRelationFamily"),
            Option("stepmother", _("stepmother"), ctdc="recruiterRelationFamily"),
            Option("sibling", _("brother or sister"), ctdc="recruiterRelationFamily"),
            Option("other_family", _("other family"), ctdc="recruiterRelationFamily"),
            Option("partner", _("partner or 'loverboy'"), ctdc="recruiterRelationIntimatePartner"),
            Option("peer", _("peer (friend, classmate)"), ctdc="recruiterRelationFriend"),
            Option("client", _("client"), ctdc="recruiterRelationOther"),
            Option("online_contact", _("online contact"), ctdc="recruiterRelationOther"),
            Option("stranger", _("stranger"), ctdc="recruiterRelationOther"),
            Option("other", _("other"), ctdc="recruiterRelationOther"),
            Option("unknown", _("unknown"), ctdc="recruiterRelationUnknown"),
        ),
        default=(),
        exclusive="unknown",
        help=_("Choose all that apply."),
        chi="perpetrator",
        ctdc="recruiterRelation*",
    ),
    Question(
        "perpetrator_count",
        _("Number of perpetrators, if known"),
        Kind.NUMBER,
        help=_("Leave empty if not known."),
    ),
    Question(
        "still_exploited",
        _("Still being exploited now"),
        Kind.ONE,
        YES_NO_UNKNOWN,
        default="unknown",
    ),
    Question(
        "duration",
        _("How long the exploitation has lasted"),
        Kind.ONE,
        (
            Option("under_1", _("less than 1 year")),
            Option("1_2", _("1 to 2 years")),
            Option("2_5", _("2 to 5 years")),
            Option("5_plus", _("5 years or more")),
            Option("unknown", _("unknown")),
        ),
        default="unknown",
    ),
    Question(
        "first_disclosure",
        _("First disclosure: never told anyone before"),
        Kind.ONE,
        YES_NO_UNKNOWN,
        default="unknown",
    ),
    Question(
        "recruitment",
        _("How recruited"),
        Kind.ONE,
        (
            Option("in_person", _("in person")),
            Option("family", _("through family"), ctdc="recruiterRelationFamily"),
            Option("social_media", _("through social media")),
            Option("other", _("other")),
            Option("unknown", _("unknown")),
        ),
        default="unknown",
    ),
    Question(
        "platform",
        _("Social-media platform"),
        Kind.ONE,
        (
            Option("instagram", "Instagram"),
            Option("snapchat", "Snapchat"),
            Option("tiktok", "TikTok"),
            Option("whatsapp", "WhatsApp"),
            Option("telegram", "Telegram"),
            Option("facebook", "Facebook"),
            Option("discord", "Discord"),
            Option("dating_app", _("dating app")),
            Option("game", _("online game")),
            Option("other", _("other platform")),
            Option("unknown", _("unknown")),
            Option("", _("not applicable")),
        ),
        default="",
        help=_("Only when recruited through social media."),
    ),
    Question(
        "sextortion",
        _("Blackmailed with nude images"),
        Kind.ONE,
        YES_NO_UNKNOWN,
        default="unknown",
        chi="online sexual exploitation / sextortion",
    ),
    Question(
        "referrals",
        _("Referral or advice given"),
        Kind.MANY,
        (
            Option("police", _("police")),
            Option("sexual_violence_centre", _("sexual-violence centre")),
            Option("child_protection", _("child protection / Veilig Thuis")),
            Option("shelter_care", _("shelter or care provider")),
            Option("other", _("other")),
        ),
        default=(),
        help=_("Choose all that apply. Leave empty if none was given."),
        victim_only=False,
        chi="referral",
    ),
    Question(
        "urgency",
        _("Urgency"),
        Kind.ONE,
        (
            Option("emergency", _("emergency")),
            Option("urgent", _("urgent")),
            Option("not_urgent", _("not urgent")),
        ),
        default="not_urgent",
        victim_only=False,
    ),
)

BY_NAME: dict[str, Question] = {question.name: question for question in QUESTIONS}
NAMES: tuple[str, ...] = tuple(question.name for question in QUESTIONS)

del _


def defaults() -> dict[str, Any]:
    """A complete record of default answers (what a fresh form shows)."""
    return {question.name: _copy(question.default) for question in QUESTIONS}


def _copy(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True)
class Problem:
    """One reason a record was refused: an English source message (marked for translation)
    with ``%(name)s`` placeholders, and the values for them."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % dict(self.params)


class Invalid(Exception):
    """A record broke the codebook. ``errors`` maps a question name (or ``""`` for the whole
    record) to its problems; the Django layer translates them for display."""

    def __init__(self, errors: dict[str, list[Problem]]) -> None:
        super().__init__(
            "; ".join(f"{k or 'record'}: {' '.join(map(str, v))}" for k, v in errors.items())
        )
        self.errors = errors


def validate(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check a record against the codebook and return it complete and normalised.

    ``raw`` maps question names to values: a code (ONE), an iterable of codes (MANY), an int
    or ``None`` (NUMBER). Missing questions take their defaults; unknown keys are refused.
    Consistency rules:

    * a told age lies between AGE_MIN and AGE_MAX and decides the band (a different band
      given with it is an error, so a typo cannot silently win);
    * a platform is given exactly when the recruitment was through social media;
    * ``unknown`` perpetrators exclude every other perpetrator;
    * the number of perpetrators is at least the number of kinds of perpetrator chosen;
    * a contact with no data (silent, test, abusive) carries no answers about a victim.

    Raises :class:`Invalid` with every problem found, not only the first.
    """
    errors: dict[str, list[Problem]] = {}
    _ = gettext_noop

    def fail(name: str, message: str, **params: Any) -> None:
        errors.setdefault(name, []).append(Problem(message, params))

    unknown_keys = sorted(set(raw) - set(NAMES))
    if unknown_keys:
        fail("", _("Unknown questions: %(names)s."), names=", ".join(unknown_keys))

    record: dict[str, Any] = {}
    for question in QUESTIONS:
        value = raw.get(question.name, question.default)
        if question.kind is Kind.ONE:
            value = "" if value is None else value
            if not isinstance(value, str) or value not in question.codes:
                fail(question.name, _("Choose one of the options."))
                value = question.default
        elif question.kind is Kind.MANY:
            if isinstance(value, str) or value is None:
                value = () if not value else (value,)
            try:
                chosen = tuple(value)
            except TypeError:
                chosen = ()
                fail(question.name, _("Choose from the options."))
            bad = [code for code in chosen if code not in question.codes]
            if bad:
                fail(question.name, _("Not an option: %(codes)s."), codes=", ".join(map(str, bad)))
            # Stored in codebook order, without duplicates.
            value = tuple(code for code in question.codes if code in chosen)
            if question.exclusive and question.exclusive in value and len(value) > 1:
                fail(question.name, _("'Unknown' cannot be combined with other answers."))
        else:
            value = _whole_number(value)
            if value is _NOT_A_NUMBER:
                fail(question.name, _("Enter a whole number, or leave it empty."))
                value = None
        record[question.name] = value

    age = record["age"]
    if age is not None:
        if not AGE_MIN <= age <= AGE_MAX:
            fail(
                "age",
                _("Enter an age from %(low)s to %(high)s, or leave it empty."),
                low=AGE_MIN,
                high=AGE_MAX,
            )
        else:
            band = band_for_age(age)
            if record["age_band"] not in ("unknown", band):
                fail(
                    "age_band",
                    _(
                        "The age band does not match the age. Leave the band on 'unknown' "
                        "when the age is told: it is filled in for you."
                    ),
                )
            record["age_band"] = band

    if record["recruitment"] == "social_media" and not record["platform"]:
        fail("platform", _("Choose the platform (or 'unknown'): the recruitment was online."))
    if record["recruitment"] != "social_media" and record["platform"]:
        fail("platform", _("A platform is only given when recruited through social media."))

    count = record["perpetrator_count"]
    if count is not None:
        kinds = [code for code in record["perpetrators"] if code != "unknown"]
        if count < 1 or count > PERPETRATORS_MAX:
            fail(
                "perpetrator_count",
                _("Enter a number from 1 to %(high)s, or leave it empty."),
                high=PERPETRATORS_MAX,
            )
        elif count < len(kinds):
            fail(
                "perpetrator_count",
                _("The number of perpetrators is smaller than the kinds of perpetrator chosen."),
            )

    if record["contact_type"] in NO_DATA_CONTACT_TYPES:
        answered = [
            question.name
            for question in QUESTIONS
            if question.victim_only and record[question.name] != _copy(question.default)
        ]
        if answered:
            fail(
                "contact_type",
                _("A contact without data carries no answers about a victim. Clear: %(names)s."),
                names=", ".join(answered),
            )

    if errors:
        raise Invalid(errors)
    return record


_NOT_A_NUMBER = object()


def _whole_number(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _NOT_A_NUMBER
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else _NOT_A_NUMBER
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return _NOT_A_NUMBER


def is_victim(record: Mapping[str, Any]) -> bool:
    """Whether a coded record describes a victim (and is counted in the figures)."""
    return record.get("contact_type") in VICTIM_CONTACT_TYPES
