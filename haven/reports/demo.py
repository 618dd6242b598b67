"""Invented coded cases for demonstrations and benchmarks. Plain Python, no Django.

Nothing here is real: every case is drawn from quotas chosen so that the yearly report
shows figures of the kind the knowledge centre publishes (for 2020: 250 victims, 150 of
them children, one in five children 15 or younger, the youngest 9 and the oldest 50,
almost two thirds telling for the first time, one in seven with (step)parents involved,
92.5% girls among those whose gender is known, a quarter blackmailed with nude images),
with trends over 2019-2022 (recruitment through social media growing, parents involved
rising from one in fifteen). Codes only: no story, no text, nothing explicit.

Quotas, not chance: for each answer the exact number of cases is fixed and then spread
over the cases by a seeded shuffle, so the headline figures come out exactly and the same
seed always gives the same database.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from haven.cases import codebook


@dataclass(frozen=True)
class YearPlan:
    """How one invented year looks. Shares are of all victims unless said otherwise."""

    year: int
    victims: int
    minors: int
    up_to_15: int  # among minors
    youngest: int
    oldest: int
    first_disclosure: float  # among those with a known answer
    parents: float
    girls: float  # among known gender
    sextortion: float  # among those with a known answer
    social_media: float
    returning_from_last_year: int = 0
    no_data_contacts: int = 30


PLANS: tuple[YearPlan, ...] = (
    YearPlan(2019, 200, 112, 20, 11, 47, 0.60, 1 / 15, 0.93, 0.20, 0.28),
    YearPlan(2020, 250, 150, 30, 9, 50, 0.64, 1 / 7, 0.925, 0.25, 0.36),
    YearPlan(
        2021, 270, 160, 36, 10, 52, 0.63, 1 / 7, 0.92, 0.27, 0.44, returning_from_last_year=12
    ),
    YearPlan(
        2022, 290, 171, 40, 10, 49, 0.62, 1 / 6, 0.91, 0.30, 0.52, returning_from_last_year=15
    ),
)


@dataclass
class DemoCase:
    """One invented case: a codebook record and the days it was in contact."""

    record: dict[str, Any]
    contacts: list[dt.date] = field(default_factory=list)


def _spread(rng: random.Random, total: int, parts: list[tuple[Any, int]]) -> list[Any]:
    """A shuffled list of ``total`` values with exactly the given counts; the last value
    takes what is left. Precondition: the counts before the last sum to at most ``total``."""
    values: list[Any] = []
    for value, count in parts[:-1]:
        values.extend([value] * count)
    values.extend([parts[-1][0]] * (total - len(values)))
    rng.shuffle(values)
    return values


def _day(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


def _ages(rng: random.Random, n: int, minors: int, up_to_15: int, plan: YearPlan) -> list[int]:
    """``n`` true ages: ``minors`` under 18 of whom ``up_to_15`` are 15 or younger, the
    rest adults, with the planned youngest and oldest each appearing once."""
    young = [plan.youngest] + [
        rng.randint(max(plan.youngest + 1, 12), 15) for _ in range(up_to_15 - 1)
    ]
    older_minors = [rng.choice((16, 17)) for _ in range(minors - up_to_15)]
    adults = [plan.oldest] + [
        min(plan.oldest - 1, int(rng.triangular(18, plan.oldest, 21)))
        for _ in range(n - minors - 1)
    ]
    ages = young + older_minors + adults
    rng.shuffle(ages)
    return ages


def year_cases(plan: YearPlan, *, seed: int) -> list[DemoCase]:
    """The new victims of one year (not those returning from the year before), plus the
    contacts without data (silent, test, abusive) that the figures leave out."""
    # Not for secrets: a seeded generator, so the same seed gives the same invented data.
    rng = random.Random(f"{seed}:{plan.year}")  # noqa: S311
    n = plan.victims - plan.returning_from_last_year
    scale = n / plan.victims

    def share(value: float, base: int | None = None) -> int:
        return round(value * (n if base is None else base))

    ages = _ages(rng, n, round(plan.minors * scale), round(plan.up_to_15 * scale), plan)
    # A fifth of the ages were not told: the counsellor estimated the band instead. The
    # youngest and oldest are always told, so they appear in the report.
    told = _spread(rng, n, [(False, n // 5), (True, 0)])
    contact_type = _spread(rng, n, [("about_victim", share(0.1)), ("self", 0)])
    gender_unknown = share(0.04)
    known_gender = n - gender_unknown
    girls = round(plan.girls * known_gender)
    gender = _spread(
        rng,
        n,
        [
            ("unknown", gender_unknown),
            ("girl", girls),
            ("non_binary", min(2, known_gender - girls)),
            ("boy", 0),
        ],
    )
    fd_unknown = share(0.02)
    first_disclosure = _spread(
        rng,
        n,
        [
            ("unknown", fd_unknown),
            ("yes", round(plan.first_disclosure * (n - fd_unknown))),
            ("no", 0),
        ],
    )
    sx_unknown = share(0.01)
    sextortion = _spread(
        rng,
        n,
        [("unknown", sx_unknown), ("yes", round(plan.sextortion * (n - sx_unknown))), ("no", 0)],
    )
    parents_n = share(plan.parents)
    # Mother and father about equally often; a few both, then often for two years or more.
    both = max(2, parents_n // 6)
    father_only = (parents_n - both) * 2 // 5
    mother_only = (parents_n - both) * 2 // 5
    step = parents_n - both - father_only - mother_only
    parent_sets = (
        [("father", "mother")] * both
        + [("father",)] * father_only
        + [("mother",)] * mother_only
        + [("stepfather",) if i % 2 == 0 else ("stepmother",) for i in range(step)]
    )
    parents = parent_sets + [()] * (n - len(parent_sets))
    rng.shuffle(parents)
    recruitment = _spread(
        rng,
        n,
        [
            ("social_media", share(plan.social_media)),
            ("family", 0),  # filled below for parent cases
            ("in_person", share(0.30 * scale)),
            ("other", share(0.08)),
            ("unknown", 0),
        ],
    )
    others = ("partner", "online_contact", "peer", "client", "stranger", "other_family", "sibling")
    platforms = ("instagram", "snapchat", "tiktok", "whatsapp", "telegram", "discord", "game")

    cases: list[DemoCase] = []
    for i in range(n):
        perpetrators = list(parents[i])
        route = recruitment[i]
        if perpetrators:
            route = "family"
        elif rng.random() < 0.9:
            perpetrators.append(rng.choice(others))
        if route == "social_media" and "online_contact" not in perpetrators and rng.random() < 0.5:
            perpetrators.append("online_contact")
        is_both = parents[i] == ("father", "mother")
        duration = (
            rng.choice(("2_5", "2_5", "5_plus", "1_2"))
            if is_both
            else rng.choice(("under_1", "under_1", "1_2", "2_5", "unknown"))
        )
        age = ages[i] if told[i] or ages[i] in (plan.youngest, plan.oldest) else None
        record = {
            "contact_type": contact_type[i],
            "age": age,
            "age_band": "unknown" if age is not None else codebook.band_for_age(ages[i]),
            "gender": gender[i],
            "exploitation": ("sexual",) if rng.random() < 0.93 else ("sexual", "criminal"),
            "perpetrators": tuple(perpetrators) or ("unknown",),
            "perpetrator_count": len(perpetrators) if perpetrators and rng.random() < 0.7 else None,
            "still_exploited": rng.choice(("yes", "no", "no", "unknown")),
            "duration": duration,
            "first_disclosure": first_disclosure[i],
            "recruitment": route,
            "platform": rng.choice(platforms) if route == "social_media" else "",
            "sextortion": sextortion[i],
            "referrals": tuple(
                code
                for code, p in (
                    ("police", 0.2),
                    ("sexual_violence_centre", 0.25),
                    ("child_protection", 0.3 if ages[i] < 18 else 0.0),
                    ("shelter_care", 0.15),
                )
                if rng.random() < p
            ),
            "urgency": rng.choice(
                ("not_urgent", "not_urgent", "not_urgent", "urgent", "emergency")
            ),
        }
        cases.append(DemoCase(codebook.validate(record), [_day(rng, plan.year)]))

    for i in range(plan.no_data_contacts):
        kind = ("silent", "test", "abusive")[i % 3]
        record = codebook.defaults() | {"contact_type": kind}
        cases.append(DemoCase(codebook.validate(record), [_day(rng, plan.year)]))
    return cases


def generate(*, seed: int = 2020, plans: tuple[YearPlan, ...] = PLANS) -> list[DemoCase]:
    """Every invented case over the planned years. Some victims of one year come back the
    next: they get a second contact and are counted once in each year."""
    everything: list[DemoCase] = []
    previous: list[DemoCase] = []
    for plan in plans:
        rng = random.Random(f"{seed}:{plan.year}:returning")  # noqa: S311
        victims_last_year = [c for c in previous if codebook.is_victim(c.record)]
        for case in rng.sample(
            victims_last_year, min(plan.returning_from_last_year, len(victims_last_year))
        ):
            case.contacts.append(_day(rng, plan.year))
        previous = year_cases(plan, seed=seed)
        everything.extend(previous)
    return everything


def scaled(
    total: int, *, seed: int = 1, first_year: int = 2017, years: int = 10
) -> Iterator[DemoCase]:
    """``total`` invented cases over ``years`` years, for benchmarks: the planned years'
    patterns repeated with the numbers scaled up. Yields lazily (a million cases fit in a
    stream, not necessarily in a list)."""
    per_year = total // years
    made = 0
    for index in range(years):
        base = PLANS[index % len(PLANS)]
        factor = per_year / base.victims
        plan = YearPlan(
            year=first_year + index,
            victims=per_year if index < years - 1 else total - made,
            minors=round(base.minors * factor),
            up_to_15=round(base.up_to_15 * factor),
            youngest=base.youngest,
            oldest=base.oldest,
            first_disclosure=base.first_disclosure,
            parents=base.parents,
            girls=base.girls,
            sextortion=base.sextortion,
            social_media=base.social_media,
            no_data_contacts=0,
        )
        for case in year_cases(plan, seed=seed):
            made += 1
            yield case
