"""The yearly report as data: figures from counts, with intervals, plain phrases, the years
before, and (for public output) disclosure control. Plain Python, no Django.

Input: the counts of :mod:`haven.reports.selectors` for the period and for the same period
in earlier years. Output: a :class:`Report` that the Django layer renders as a page, PDF,
CSV and JSON (format in docs/reports.md). Labels are English source strings marked with
``gettext_noop``; the Django layer translates them into Dutch and English.

Bases. Every share says what it is taken over:

* questions with an "unknown" answer (gender, first disclosure, still exploited,
  sextortion, recruitment): the victims whose answer is known; the unknowns are reported
  and the base says how many were left out. In public output, when the number of unknowns
  may not be published (too small, or hidden by secondary suppression), they stay in the
  base (else base and total would give it away), and the base says so;
* the same for the other bases that leave out an unknown: the platform (of victims
  recruited through social media), the duration (of victims with both parents involved),
  and who the perpetrators are (for "more than one perpetrator");
* questions with several answers (forms, perpetrators, referrals): all victims;
* the rest as named (minors, victims with a parent involved, …).

Public output (``public=True``): counts from 1 to threshold - 1 are hidden, and more where
totals would give them away (secondary suppression, per table of answers that exclude each
other); a share is withheld when its base is small, its count or the rest is small, or its
count or base is hidden; the youngest and oldest ages are given as age bands; and the rules
applied are listed. Then each period is audited as a whole (:mod:`haven.reports.audit`,
:func:`_period_values`): figures are withheld until no protected quantity can be worked
out from everything published. Internal output shows everything and is marked
confidential.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from haven.cases import codebook
from haven.cases.codebook import gettext_noop
from haven.reports import audit, disclosure, phrases, stats

Counts = Mapping[str, int | None]
_ = gettext_noop

REPORT_FORMAT = "haven-yearly-report"
REPORT_VERSION = 1


# --- what the report holds ---------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """What a share is taken over. ``total`` names a count; ``unknown`` names the count of
    unknowns left out of it (and put back in public output when too small to publish)."""

    key: str
    label: str  # English source with %(base)s and, when unknowns are left out, %(unknown)s
    total: str
    unknown: str = ""
    label_with_unknown_kept: str = ""


VICTIMS = Base("victims", _("of %(base)s victims"), "victims")
MINORS = Base("minors", _("of %(base)s minors"), "age:minor")
PARENTS = Base("parents", _("of %(base)s victims with a (step)parent involved"), "parents:any")
# The bases below leave out a group whose answer is unknown. Were that group small, the
# base would give it away by subtraction from a published total (the victims with both
# parents involved, the victims, those recruited through social media); so, like the
# unknown answers of a question, it is then kept in the base in public output.
BOTH_PARENTS = Base(
    "both_parents",
    _("of %(base)s victims with both parents involved and a known duration"),
    "parents:both",
    unknown="parents:both:duration:unknown",
    label_with_unknown_kept=_(
        "of %(base)s victims with both parents involved (unknown duration included)"
    ),
)
PERPETRATORS_KNOWN = Base(
    "perpetrators_known",
    _("of %(base)s victims of whom the perpetrators are known"),
    "victims",
    unknown="perpetrators:not_known",
    label_with_unknown_kept=_("of %(base)s victims (unknown answers included)"),
)
SOCIAL = Base(
    "social_media",
    _("of %(base)s victims recruited through social media whose platform is known"),
    "recruitment:social_media",
    unknown="platform:unknown",
    label_with_unknown_kept=_(
        "of %(base)s victims recruited through social media (unknown platform included)"
    ),
)


def _known(question: str) -> Base:
    return Base(
        f"known:{question}",
        _("of %(base)s victims whose answer is known (%(unknown)s unknown left out)"),
        "victims",
        unknown=f"{question}:unknown",
        label_with_unknown_kept=_("of %(base)s victims (unknown answers included)"),
    )


@dataclass(frozen=True)
class Spec:
    """One share in the report: ``count`` (a count name) over ``base``. ``line`` groups
    answers that exclude each other and add up to a total, for secondary suppression."""

    key: str
    label: str
    count: str
    base: Base
    line: str = ""


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    specs: tuple[Spec, ...]


def _label(question: str, code: str) -> str:
    return codebook.BY_NAME[question].option(code).label


def _one_question(question: str, *, skip: Sequence[str] = ()) -> tuple[Spec, ...]:
    """A share for each answer of a one-answer question (unknown left out of the base)."""
    q = codebook.BY_NAME[question]
    has_unknown = "unknown" in q.codes
    base = _known(question) if has_unknown else VICTIMS
    return tuple(
        Spec(f"{question}:{code}", _label(question, code), f"{question}:{code}", base, question)
        for code in q.codes
        if code != "unknown" and code not in skip
    )


def _many_question(question: str) -> tuple[Spec, ...]:
    q = codebook.BY_NAME[question]
    return tuple(
        Spec(f"{question}:{code}", _label(question, code), f"{question}:{code}", VICTIMS)
        for code in q.codes
        if code != q.exclusive
    )


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "victims",
        _("Victims"),
        (
            Spec(
                "contact:self", _("told about themselves"), "contact_type:self", VICTIMS, "contact"
            ),
            Spec(
                "contact:about_victim",
                _("reported by someone else"),
                "contact_type:about_victim",
                VICTIMS,
                "contact",
            ),
        ),
    ),
    SectionSpec(
        "age",
        _("Age"),
        (
            Spec("age:minor", _("minors (under 18)"), "age:minor", VICTIMS, "age"),
            Spec("age:adult", _("adults (18 or older)"), "age:adult", VICTIMS, "age"),
            Spec("age:unknown", _("age unknown"), "age_band:unknown", VICTIMS, "age"),
            Spec(
                "age:up_to_15", _("15 or younger, among minors"), "age:up_to_15", MINORS, "minors"
            ),
        ),
    ),
    SectionSpec("gender", _("Gender"), _one_question("gender")),
    SectionSpec(
        "situation",
        _("Telling and being exploited"),
        (
            Spec(
                "first_disclosure:yes",
                _("told it for the first time"),
                "first_disclosure:yes",
                _known("first_disclosure"),
                "first_disclosure",
            ),
            Spec(
                "still_exploited:yes",
                _("still being exploited"),
                "still_exploited:yes",
                _known("still_exploited"),
                "still_exploited",
            ),
            Spec(
                "sextortion:yes",
                _("blackmailed with nude images"),
                "sextortion:yes",
                _known("sextortion"),
                "sextortion",
            ),
        ),
    ),
    SectionSpec(
        "perpetrators",
        _("Who exploits"),
        (
            Spec("parents:any", _("(step)parents involved"), "parents:any", VICTIMS),
            *(
                Spec(f"parents:{code}", _label("perpetrators", code), f"parents:{code}", PARENTS)
                for code in codebook.PARENT_CODES
            ),
            Spec("parents:both", _("both parents involved"), "parents:both", PARENTS),
            Spec(
                "parents:both:long",
                _("both parents: exploited for two years or more"),
                "parents:both:duration:long",
                BOTH_PARENTS,
            ),
            Spec(
                "perpetrators:several",
                _("more than one perpetrator"),
                "perpetrators:several",
                PERPETRATORS_KNOWN,
            ),
            *_many_question("perpetrators"),
        ),
    ),
    SectionSpec("exploitation", _("Form of exploitation"), _many_question("exploitation")),
    SectionSpec(
        "recruitment",
        _("How recruited"),
        (
            *_one_question("recruitment"),
            *(
                Spec(f"platform:{code}", option.label, f"platform:{code}", SOCIAL, "platform")
                for option in codebook.BY_NAME["platform"].options
                if (code := option.code) not in ("", "unknown")
            ),
        ),
    ),
    SectionSpec("urgency", _("Urgency"), _one_question("urgency")),
    SectionSpec(
        "referrals",
        _("Referral or advice given"),
        (
            Spec("referrals:any", _("any referral or advice"), "referrals:any", VICTIMS),
            *_many_question("referrals"),
        ),
    ),
)

_PLATFORMS = tuple(c for c in codebook.BY_NAME["platform"].codes if c not in ("", "unknown"))

# Lines for secondary suppression: answers that exclude each other, and their total.
LINES: dict[str, tuple[tuple[str, ...], str]] = {
    "contact": (("contact_type:self", "contact_type:about_victim"), "victims"),
    "age": (("age:minor", "age:adult", "age_band:unknown"), "victims"),
    "minors": (("age:up_to_15", "age:16_17"), "age:minor"),
    "platform": (
        (*(f"platform:{c}" for c in _PLATFORMS), "platform:unknown"),
        "recruitment:social_media",
    ),
    **{
        question: (
            tuple(f"{question}:{code}" for code in codebook.BY_NAME[question].codes),
            "victims",
        )
        # Only questions whose every answer is published. For yes/no questions only "yes"
        # is given, so "no" and "unknown" are never both known and cannot give each other
        # away; a small rest is caught by the share rule instead.
        for question in ("gender", "recruitment", "urgency")
    },
}

# The two parents of "both parents": a father or stepfather and a mother or stepmother.
_FATHERS = frozenset({"father", "stepfather"})
_MOTHERS = frozenset({"mother", "stepmother"})
_YES_NO = ("first_disclosure", "still_exploited", "sextortion")
_MANY = ("exploitation", "perpetrators", "referrals")


def _parent_sets() -> list[frozenset[str]]:
    """Every non-empty combination of the four parent codes: the regions of their Venn
    diagram, of which each parent figure is a union."""
    codes = codebook.PARENT_CODES
    return [
        frozenset(code for bit, code in enumerate(codes) if mask >> bit & 1)
        for mask in range(1, 2 ** len(codes))
    ]


def _region(codes: frozenset[str]) -> str:
    return "parents:only:" + "+".join(sorted(codes))


@functools.cache
def identities() -> tuple[audit.Constraint, ...]:
    """Everything that holds between the counts of one period by their definition
    (selectors' module docstring), as the attacker of :mod:`haven.reports.audit` knows it.

    Counts that are not in the report (``age:16_17``, the regions of the parent sets) are
    named all the same: a reader can reason with them."""
    eq, ge = audit.Constraint.equal, audit.Constraint.at_least
    out: list[audit.Constraint] = []

    def total(members: Sequence[str], whole: str) -> None:
        expr = {name: 1 for name in members}
        expr[whole] = expr.get(whole, 0) - 1
        out.append(eq(expr))

    for members, whole in LINES.values():
        total(members, whole)
    for question in _YES_NO:
        total([f"{question}:{code}" for code in codebook.BY_NAME[question].codes], "victims")
    durations = [f"parents:both:duration:{c}" for c in codebook.BY_NAME["duration"].codes]
    total(durations, "parents:both")
    total(
        ["parents:both:duration:2_5", "parents:both:duration:5_plus"], "parents:both:duration:long"
    )

    # The parent figures are unions of the regions of four overlapping sets.
    regions = _parent_sets()
    total([_region(r) for r in regions], "parents:any")
    for code in codebook.PARENT_CODES:
        total([_region(r) for r in regions if code in r], f"parents:{code}")
        # The same count under two names: among the perpetrators and among the parents.
        out.append(eq({f"parents:{code}": 1, f"perpetrators:{code}": -1}))
    total([_region(r) for r in regions if r & _FATHERS and r & _MOTHERS], "parents:both")

    # Questions with several answers: "any" is at least each answer, at most their sum.
    for question in _MANY:
        q = codebook.BY_NAME[question]
        codes = [c for c in q.codes if c != q.exclusive]
        for code in codes:
            out.append(ge({f"{question}:any": 1, f"{question}:{code}": -1}))
        out.append(ge({**{f"{question}:{code}": 1 for code in codes}, f"{question}:any": -1}))
        out.append(ge({"victims": 1, f"{question}:any": -1}))
        if q.exclusive:
            # "unknown" is never ticked beside another answer.
            out.append(ge({"victims": 1, f"{question}:any": -1, f"{question}:{q.exclusive}": -1}))
    # Perpetrators are known when a number or a kind was given; "several" only then.
    out.append(ge({"perpetrators:known": 1, "perpetrators:any": -1}))
    out.append(ge({"perpetrators:known": 1, "perpetrators:several": -1}))
    total(["perpetrators:known", "perpetrators:not_known"], "victims")
    out.append(ge({"age:minor": 1, "age:up_to_15": -1}))

    # No count exceeds the number of victims.
    named = {name for c in out for name in c.expr} - {"victims"}
    out.extend(ge({"victims": 1, name: -1}) for name in sorted(named))
    return tuple(out)


# Trend charts: (key, title, description, spec keys drawn as lines).
TRENDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "social_media",
        _("Recruited through social media"),
        _("Share of victims recruited through social media, of those whose route is known."),
        ("recruitment:social_media",),
    ),
    (
        "parents",
        _("(Step)parents involved"),
        _("Share of victims who said a parent or step-parent was involved."),
        ("parents:any",),
    ),
    (
        "sextortion",
        _("Blackmailed with nude images"),
        _("Share of victims blackmailed with nude images, of those whose answer is known."),
        ("sextortion:yes",),
    ),
    (
        "age",
        _("Age"),
        _("Share of minors among all victims, and of those 15 or younger among minors."),
        ("age:minor", "age:up_to_15"),
    ),
)


def derived(counts: Counts) -> dict[str, int | None]:
    """Counts computed from others (so the database query stays one plain aggregate)."""
    out = dict(counts)

    def n(name: str) -> int:
        return int(counts.get(name) or 0)

    out["parents:both:duration:known"] = n("parents:both") - n("parents:both:duration:unknown")
    out["parents:both:duration:long"] = n("parents:both:duration:2_5") + n(
        "parents:both:duration:5_plus"
    )
    out["platform:known"] = n("recruitment:social_media") - n("platform:unknown")
    out["perpetrators:not_known"] = n("victims") - n("perpetrators:known")
    out["age:16_17"] = n("age:minor") - n("age:up_to_15")
    return out


# --- results -----------------------------------------------------------------------------


@dataclass
class Value:
    """One share in one period, as published (``None`` where withheld or hidden)."""

    label: str  # the period, e.g. "2020"
    count: int | None
    base: int | None
    percent: float | None
    low: float | None
    high: float | None
    # What is published: None (shown), "no_data" (a base of 0: nothing to say), or
    # WITHHELD, the same for every withheld value whatever the reason: printing why (a small
    # count, a small rest, a complement) would tell a reader which cells are below the
    # threshold.
    withheld: str | None = None
    unknown_left_out: int | None = None
    unknown_kept: bool = False
    # Why it is withheld (a disclosure.Withheld value, or "victims_hidden"): for the tests
    # and for whoever maintains the rules; never published.
    reason: str | None = None


WITHHELD = "withheld"


@dataclass
class Figure:
    key: str
    label: str
    base_label: str
    current: Value
    phrase_nl: str | None
    phrase_en: str | None
    history: list[Value] = field(default_factory=list)  # the earlier periods, newest first
    change: dict[str, Any] | None = None  # against the period just before


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure]


@dataclass
class CountFigure:
    """The number of victims, with the earlier periods and the change."""

    current: int | None
    history: list[tuple[str, int | None]]
    change: dict[str, Any] | None


@dataclass
class Report:
    period_label: str
    start: dt.date
    end: dt.date  # exclusive
    public: bool
    threshold: int | None
    victims: CountFigure
    # Exact told ages in the internal report; in public output only the band codes.
    youngest: int | None
    oldest: int | None
    youngest_band: str | None
    oldest_band: str | None
    sections: list[Section]
    rules: list[disclosure.Rule]
    synthetic: int  # invented cases among the counted ones
    history_labels: list[str]
    generated_at: dt.datetime | None = None
    # The multiple systems estimate attached to a calendar year's report (the entry of
    # haven.estimation.selectors.report_estimate), set by the page and the command; not
    # computed here, so the report's queries stay as they are.
    estimate: dict[str, Any] | None = None
    # The visitors' answers to the two questions after a chat (haven.feedback.questions.
    # summarise), set the same way: they are not about victims and come from another table.
    feedback: dict[str, Any] | None = None

    @property
    def confidential(self) -> bool:
        return not self.public

    def figure(self, key: str) -> Figure:
        for section in self.sections:
            for figure in section.figures:
                if figure.key == key:
                    return figure
        raise KeyError(key)


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date
    counts: Counts


# --- building ----------------------------------------------------------------------------


class _Protected:
    """Which counts of one period are hidden in public output (None: nothing hidden)."""

    def __init__(self, counts: Counts, threshold: int | None) -> None:
        self.threshold = threshold
        self.hidden: set[str] = set()
        self.applied: set[str] = set()
        if threshold is None:
            return
        for members, total in LINES.values():
            line = {name: int(counts.get(name) or 0) for name in members}
            protected = disclosure.protect_line(
                line, total=int(counts.get(total) or 0), threshold=threshold
            )
            if sum(line.values()) != int(counts.get(total) or 0):
                raise ValueError(f"counts of {members} do not add up to {total}")
            self.hidden.update(name for name, cell in protected.cells.items() if cell.hidden)
            if protected.total is not None and protected.total.hidden:
                self.hidden.add(total)
            self.applied.update(protected.applied)
        for name, value in counts.items():
            if isinstance(value, int) and 0 < value < threshold and not name.startswith("age:"):
                self.hidden.add(name)
                self.applied.add("primary")
        for name in ("age:told", "age:minor", "age:adult", "age:up_to_15"):
            value = int(counts.get(name) or 0)
            if 0 < value < threshold:
                self.hidden.add(name)
                self.applied.add("primary")


def _value(
    spec: Spec, period: Period, protected: _Protected, forced: frozenset[str] = frozenset()
) -> tuple[Value, phrases.Phrase | None, str]:
    counts = period.counts
    if protected.threshold is not None and "victims" in protected.hidden:
        # Fewer victims than the threshold: nothing about them is published, not even a
        # zero over a zero base (which, beside the others, describes the few there were).
        value = Value(period.label, None, None, None, None, None, WITHHELD, reason="victims_hidden")
        return value, None, spec.base.label
    count = int(counts.get(spec.count) or 0)
    base = int(counts.get(spec.base.total) or 0)
    unknown = int(counts.get(spec.base.unknown) or 0) if spec.base.unknown else 0
    threshold = protected.threshold
    kept = _kept(spec, counts, protected)
    if spec.base.unknown and not kept:
        base -= unknown
    label = spec.base.label_with_unknown_kept if kept else spec.base.label
    withheld: str | None = None
    if base == 0:
        withheld = "no_data"
    elif threshold is not None:
        hidden = spec.count in protected.hidden
        base_hidden = spec.base.total in protected.hidden
        reason = disclosure.share_withheld(
            count, base, threshold=threshold, count_hidden=hidden or base_hidden
        )
        withheld = None if reason is None else str(reason)
        if withheld is None and spec.key in forced:
            withheld = "audit"  # the whole-report audit needs it hidden (_period_values)
    left_out = unknown if spec.base.unknown and not kept else None
    if withheld == "no_data":
        return Value(period.label, count, base, None, None, None, withheld, left_out), None, label
    if withheld is not None:
        # Public and withheld: neither count nor base is given, as together they would
        # give back what is protected (the share, or the small rest of the base).
        value = Value(period.label, None, None, None, None, None, WITHHELD, reason=withheld)
        return value, None, label
    share = stats.Share(count, base)
    low, high = share.interval() or (None, None)
    value = Value(
        period.label,
        count,
        base,
        share.percent,
        None if low is None else 100 * low,
        None if high is None else 100 * high,
        None,
        left_out,
        kept,
    )
    return value, phrases.phrase_for(count, base), label


ALL_SPECS: tuple[Spec, ...] = tuple(spec for section in SECTIONS for spec in section.specs)

_Entry = tuple[Value, phrases.Phrase | None, str]


def _kept(spec: Spec, counts: Counts, protected: _Protected) -> bool:
    """Whether ``spec``'s unknowns stay in its base in public output. Unknowns that may not
    be published stay in, else base and total would give them away: too few of them, or
    hidden so that another hidden count of their table cannot be worked out (secondary
    suppression)."""
    if not spec.base.unknown or protected.threshold is None:
        return False
    unknown = int(counts.get(spec.base.unknown) or 0)
    return 0 < unknown < protected.threshold or spec.base.unknown in protected.hidden


def _reader(
    period: Period, protected: _Protected, values: Mapping[str, _Entry], bands: Sequence[str]
) -> tuple[list[audit.Constraint], list[audit.Either], list[audit.Protected]]:
    """What a reader of this period's public figures knows, and what they must not learn
    (see :mod:`haven.reports.audit`). Precondition: the victims are shown."""
    assert protected.threshold is not None
    threshold = protected.threshold
    counts = period.counts
    eq, ge = audit.Constraint.equal, audit.Constraint.at_least
    known = [*identities(), eq({"victims": 1}, int(counts.get("victims") or 0))]
    either: list[audit.Either] = []
    guarded: list[audit.Protected] = []

    def true(expr: Mapping[str, int]) -> int:
        return audit.value_of(expr, counts)

    for spec in ALL_SPECS:
        value = values[spec.key][0]
        kept = _kept(spec, counts, protected)
        base = {spec.base.total: 1}
        if spec.base.unknown and not kept:
            base[spec.base.unknown] = -1
        if value.withheld != WITHHELD:  # shown, or a zero over a zero base ("no_data")
            assert value.count is not None and value.base is not None
            known.append(eq({spec.count: 1}, value.count))
            known.append(eq(base, value.base))
            if value.unknown_left_out is not None:
                known.append(eq({spec.base.unknown: 1}, value.unknown_left_out))
            if value.unknown_kept:
                known.append(ge({spec.base.unknown: 1}, 1))
            continue
        if spec.base.total not in protected.hidden:
            # Zeros are shown: withheld over a base the reader may see, the count is >= 1,
            # unless that base is below the threshold.
            either.append(audit.Either({spec.count: 1}, 1, base, threshold - 1))
        # What a withheld share protects: a small count, or a small rest of its base. (A
        # large count withheld only to protect another, 66 of 66 say, may be worked out:
        # it tells nothing about a few.)
        rest = dict(base)
        rest[spec.count] = rest.get(spec.count, 0) - 1
        for name, expr in ((spec.key, {spec.count: 1}), (f"{spec.key} (rest)", rest)):
            if 0 < true(expr) < threshold:
                guarded.append(audit.Protected(name, expr, true(expr)))
    named = {name for c in identities() for name in c.expr}
    for name in sorted(protected.hidden & named):
        guarded.append(audit.Protected(name, {name: 1}, true({name: 1})))
    # A published age band of the youngest or oldest holds at least `threshold` victims.
    for band in bands:
        if band in codebook.UP_TO_15_BANDS:
            known.append(ge({"age:up_to_15": 1}, threshold))
        if band in codebook.MINOR_BANDS:
            known.append(ge({"age:minor": 1}, threshold))
        else:
            known.append(ge({"age:adult": 1}, threshold))
    return known, either, guarded


def _check_identities(counts: Counts) -> None:
    """Raise ValueError unless ``counts`` satisfy every identity they can be checked on (the
    parent regions are not counted). The audit reasons from these identities: counts that
    broke them would make it see exposures that are not there, or miss real ones."""
    for constraint in identities():
        if not all(name in counts for name in constraint.expr):
            continue
        total = audit.value_of(constraint.expr, counts)
        if (constraint.low is not None and total < constraint.low) or (
            constraint.high is not None and total > constraint.high
        ):
            raise ValueError(f"the counts break an identity of the report: {dict(constraint.expr)}")


def _next_to_withhold(
    exposed: Sequence[audit.Protected], values: Mapping[str, _Entry], *, linked_only: bool = False
) -> str | None:
    """The figure to withhold next so that ``exposed`` is no longer pinned: the smallest
    non-zero shown count among the figures linked to it by an identity (the line rule's
    choice, across the report), else (unless ``linked_only``) among all shown figures;
    None when none is left."""
    involved = {name for quantity in exposed for name in quantity.expr}
    near = set(involved)
    for constraint in identities():
        names = set(constraint.expr)
        if len(names) == 2 and "victims" in names and constraint.high is None:
            continue  # "at most the number of victims" links everything to everything
        if names & involved:
            near |= names
    shown = [
        (entry[0].count, index, spec.key)
        for index, spec in enumerate(ALL_SPECS)
        if (entry := values[spec.key])[0].withheld is None and (entry[0].count or 0) > 0
    ]
    linked = [item for item in shown if ALL_SPECS[item[1]].count in near]
    pool = linked if linked or linked_only else shown
    return min(pool)[2] if pool else None


def _period_values(period: Period, protected: _Protected, bands: list[str]) -> dict[str, _Entry]:
    """Every figure of one period; in public output after the whole-report audit, hiding
    more figures until no withheld quantity can be worked out (:mod:`haven.reports.audit`).
    When no figure linked to what is exposed is left, the youngest and oldest age bands go
    first (emptying ``bands``, which the caller then does not publish), then any figure;
    when even that cannot protect them, nothing of the period is published."""
    if protected.threshold is not None and "victims" not in protected.hidden:
        _check_identities(period.counts)
    forced: set[str] = set()
    while True:
        frozen = frozenset(forced)
        values = {spec.key: _value(spec, period, protected, frozen) for spec in ALL_SPECS}
        if protected.threshold is None or "victims" in protected.hidden:
            return values
        victims = int(period.counts.get("victims") or 0)
        known, either, guarded = _reader(period, protected, values, bands)
        exposed = audit.exposed(known, either, guarded, big=max(victims, protected.threshold))
        if not exposed:
            return values
        pick = _next_to_withhold(exposed, values, linked_only=bool(bands))
        if pick is None and bands:
            # A band says "at least the threshold are minors" (or adults): with the few
            # others hidden it can pin them. It describes two people; drop it first.
            bands.clear()
            continue
        if pick is None:
            protected.hidden.add("victims")
            protected.applied.add("secondary")
        else:
            forced.add(pick)


def _share_change(current: Value, previous: Value) -> dict[str, Any] | None:
    if None in (current.count, current.base, previous.count, previous.base):
        return None
    if current.withheld or previous.withheld:
        return None
    assert current.count is not None and current.base is not None
    assert previous.count is not None and previous.base is not None
    change = stats.compare(
        stats.Share(current.count, current.base), stats.Share(previous.count, previous.base)
    )
    if change.difference is None:
        return None
    assert change.low is not None and change.high is not None
    return {
        "against": previous.label,
        "points": 100 * change.difference,
        "low": 100 * change.low,
        "high": 100 * change.high,
        "p_value": change.p_value,
        "significant": change.significant,
    }


def _band(age: int | None) -> str | None:
    return None if age is None else disclosure.age_band(age, codebook.AGE_BANDS).code


def _band_published(
    counts: Counts, protected: _Protected, age: int | None, threshold: int
) -> str | None:
    """The band of a youngest or oldest told age as public output may give it: only where
    the count it comes from may be published, that is the victims are shown and the band
    holds at least the threshold of them (else "the youngest is under 12" tells of a few)."""
    band = _band(age)
    if band is None or "victims" in protected.hidden:
        return None
    if int(counts.get(f"age_band:{band}") or 0) < threshold:
        return None
    return band


def _published_bands(period: Period, protected: _Protected, threshold: int) -> list[str]:
    """The age bands public output gives for the youngest and oldest of ``period``."""
    found = []
    for name in ("age:youngest", "age:oldest"):
        band = _band_published(
            period.counts, protected, _maybe_int(period.counts.get(name)), threshold
        )
        if band is not None:
            found.append(band)
    return found


def build(
    current: Period,
    history: Sequence[Period] = (),
    *,
    public: bool = False,
    threshold: int = disclosure.DEFAULT_THRESHOLD,
    synthetic: int = 0,
    generated_at: dt.datetime | None = None,
) -> Report:
    """The report for ``current`` with ``history`` (earlier periods, newest first).

    Precondition: every period's counts come from :func:`selectors.period_counts` (all
    names present). Earlier periods without any victim are left out of the comparison.
    """
    used_threshold = threshold if public else None
    periods = [current] + [p for p in history if int(p.counts.get("victims") or 0) > 0]
    periods = [Period(p.label, p.start, p.end, derived(p.counts)) for p in periods]
    protections = [_Protected(p.counts, used_threshold) for p in periods]

    # Only the current period's youngest and oldest are published here, but an earlier
    # period's were published in its own report: the audit reads them for every period, so
    # that a period is published alike whichever report shows it.
    bands = [
        _published_bands(p, prot, threshold) if public else []
        for p, prot in zip(periods, protections, strict=True)
    ]
    per_period = [
        _period_values(p, prot, b) for p, prot, b in zip(periods, protections, bands, strict=True)
    ]
    sections: list[Section] = []
    for section_spec in SECTIONS:
        figures: list[Figure] = []
        for spec in section_spec.specs:
            values = [entries[spec.key] for entries in per_period]
            (value, phrase, base_label), earlier = values[0], values[1:]
            history_values = [v for v, _p, _l in earlier]
            figures.append(
                Figure(
                    key=spec.key,
                    label=spec.label,
                    base_label=base_label,
                    current=value,
                    phrase_nl=None if phrase is None else phrase.nl,
                    phrase_en=None if phrase is None else phrase.en,
                    history=history_values,
                    change=_share_change(value, history_values[0]) if history_values else None,
                )
            )
        sections.append(Section(section_spec.key, section_spec.title, figures))

    def victims_shown(period: Period, prot: _Protected) -> int | None:
        count = int(period.counts.get("victims") or 0)
        return None if "victims" in prot.hidden else count

    shown = [victims_shown(p, prot) for p, prot in zip(periods, protections, strict=True)]
    count_change = None
    if len(periods) > 1 and shown[0] is not None and shown[1] is not None:
        exposure = [(p.end - p.start).days for p in periods[:2]]
        c = stats.compare_counts(
            shown[0], shown[1], exposure_current=exposure[0], exposure_previous=exposure[1]
        )
        count_change = {
            "against": periods[1].label,
            "difference": c.difference,
            "ratio": c.ratio,
            "low": c.low,
            "high": c.high,
            "p_value": c.p_value,
            "significant": c.significant,
        }
    victims = CountFigure(
        shown[0], [(p.label, s) for p, s in zip(periods[1:], shown[1:], strict=True)], count_change
    )

    # Every rule is stated in a public report, whether or not it hid something this time:
    # saying which rules hid nothing would itself tell something about the small numbers.
    rules = list(disclosure.rules(threshold)) if public else []
    counts = periods[0].counts
    youngest = _maybe_int(counts.get("age:youngest"))
    oldest = _maybe_int(counts.get("age:oldest"))

    def band_published(age: int | None) -> str | None:
        if not public:
            return _band(age)
        band = _band_published(counts, protections[0], age, threshold)
        # Only the bands the audit kept (it may drop them, see _period_values).
        return band if band in bands[0] else None

    return Report(
        period_label=current.label,
        start=current.start,
        end=current.end,
        public=public,
        threshold=used_threshold,
        victims=victims,
        youngest=None if public else youngest,
        oldest=None if public else oldest,
        youngest_band=band_published(youngest),
        oldest_band=band_published(oldest),
        sections=sections,
        rules=rules,
        synthetic=synthetic,
        history_labels=[p.label for p in periods[1:]],
        generated_at=generated_at,
    )


def _maybe_int(value: int | None) -> int | None:
    return None if value is None else int(value)


def trend_series(report: Report, keys: Sequence[str]) -> tuple[list[str], list[list[float | None]]]:
    """Period labels oldest first, and for each spec key its percentages (None: withheld)."""
    labels = [*list(reversed(report.history_labels)), report.period_label]
    series: list[list[float | None]] = []
    for key in keys:
        figure = report.figure(key)
        values = [v.percent for v in reversed(figure.history)] + [figure.current.percent]
        series.append(values)
    return labels, series
