"""The counts behind the report (haven/reports/selectors.py), on a small hand-built set of
coded cases whose counts are worked out here, by hand, in the comments.

The set (:func:`build_cases`) is shared with test_figures.py, which checks the shares,
intervals, phrases and changes computed from these counts.

2020: twenty victims, described column by column below (index 0 to 19), plus cases that
must not be counted: contacts without data (silent, test, abusive), a case that is not
coded yet, and a victim whose contacts fall just outside the year.
2019: ten victims: eight of its own, victim 0 of 2020 (who also came in 2019), and the
victim with a contact on 31 December 2019 and one on 1 January 2021.
2018: three victims. 2017: none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haven.cases import codebook
from haven.cases.models import Case, CaseContact
from haven.reports.selectors import (
    count_expressions,
    period_counts,
    period_label,
    report_periods,
    shift_years,
    yearly_report,
)

pytestmark = pytest.mark.django_db

YEAR_2020 = (dt.date(2020, 1, 1), dt.date(2021, 1, 1))
YEAR_2019 = (dt.date(2019, 1, 1), dt.date(2020, 1, 1))
YEAR_2018 = (dt.date(2018, 1, 1), dt.date(2019, 1, 1))
YEAR_2017 = (dt.date(2017, 1, 1), dt.date(2018, 1, 1))
YEAR_2021 = (dt.date(2021, 1, 1), dt.date(2022, 1, 1))
CODED_AT = dt.datetime(2021, 2, 1, 12, 0, tzinfo=dt.UTC)

# --- the twenty victims of 2020, one column per question --------------------------------
# Index:           0   1   2   3   4   5   6   7   8   9  10  11  12  13  14  15  16  17  18  19
N = 20

# 16 tell about themselves (0-15), 4 are reported by someone else (16-19).
CONTACT = ["self"] * 16 + ["about_victim"] * 4

# Told ages (None: not told) and, when not told, the band the counsellor estimated.
# Minors: 0 (9, under 12), 1 (13), 2 (band 12-15): 3 aged 15 or younger; 3-14: 12 aged 16 or
# 17. So 15 minors, 3 of them 15 or younger: 3 / 15 = one in five.
# Adults: 15 (50), 16 (19), 17 (band 25-34), 18 (band 18-24): 4. Age unknown: 19.
# Told: 0, 1, 3-8, 15, 16: 10 ages; the youngest 9, the oldest 50.
AGE = [9, 13, None, 16, 17, 16, 17, 16, 17, None, None, None, None, None, None, 50, 19]
AGE += [None, None, None]
BAND = ["unknown", "unknown", "12_15"] + ["unknown"] * 6 + ["16_17"] * 6
BAND += ["unknown", "unknown", "25_34", "18_24", "unknown"]

# 14 girls (0-13), 3 boys (14-16), 1 non-binary (17), 2 unknown (18, 19).
GENDER = ["girl"] * 14 + ["boy"] * 3 + ["non_binary"] + ["unknown"] * 2

# First disclosure: 12 yes (0-11), 6 no (12-17), 2 unknown (18, 19).
FIRST_DISCLOSURE = ["yes"] * 12 + ["no"] * 6 + ["unknown"] * 2

# Still exploited: 5 yes (0-4), 10 no (5-14), 5 unknown (15-19).
STILL = ["yes"] * 5 + ["no"] * 10 + ["unknown"] * 5

# Blackmailed with nude images: 5 yes (0-4), 15 no, none unknown.
SEXTORTION = ["yes"] * 5 + ["no"] * 15

# Who exploits, how many, and for how long:
#  0: father and mother, duration 2-5 years    -> parents, both, long; several (2 kinds)
#  1: stepfather and mother, duration 1-2 years -> parents, both, not long; several
#  2: father, 1 perpetrator                     -> parents
#  3: mother and a sibling                      -> parents; several
#  4: a partner, 3 perpetrators                 -> several (by number)
#  5: a partner, 1 perpetrator
#  6: unknown, but 2 perpetrators               -> known by number, several
#  7-10: unknown, number unknown                -> perpetrators not known (4)
#  11-19: one kind each
# Parents: 0-3 (4); father 0, 2 (2); mother 0, 1, 3 (3); stepfather 1; stepmother none.
# Both parents: 0, 1 (2), durations known for both, two years or more for 0 only.
# Perpetrators known: 20 - 4 = 16; more than one: 0, 1, 3, 4, 6 = 5.
PERPETRATORS: list[tuple[str, ...]] = [
    ("father", "mother"),
    ("stepfather", "mother"),
    ("father",),
    ("mother", "sibling"),
    ("partner",),
    ("partner",),
    ("unknown",),
    ("unknown",),
    ("unknown",),
    ("unknown",),
    ("unknown",),
    ("peer",),
    ("client",),
    ("online_contact",),
    ("online_contact",),
    ("stranger",),
    ("other_family",),
    ("online_contact",),
    ("client",),
    ("partner",),
]
COUNT: list[int | None] = [None, None, 1, None, 3, 1, 2] + [None] * 13
DURATION = ["2_5", "1_2", "unknown", "under_1"] + ["unknown"] * 16

# Forms: sexual 0-17 (18), labour 18, criminal (with sexual) 3, 4, 5; 19 none ticked.
EXPLOITATION: list[tuple[str, ...]] = [("sexual",)] * 18 + [("labour",), ()]
EXPLOITATION[3] = EXPLOITATION[4] = EXPLOITATION[5] = ("sexual", "criminal")

# Recruited: through family 0-3 (4), social media 4-11 (8), in person 12-16 (5), other 17,
# unknown 18, 19. Platforms among the 8: Instagram 4, 5, 6; Snapchat 7, 8; TikTok 9;
# unknown 10, 11.
RECRUITMENT = ["family"] * 4 + ["social_media"] * 8 + ["in_person"] * 5 + ["other"]
RECRUITMENT += ["unknown"] * 2
PLATFORM = ["", "", "", "", "instagram", "instagram", "instagram", "snapchat", "snapchat"]
PLATFORM += ["tiktok", "unknown", "unknown"] + [""] * 8

# Urgency: emergency 0, 1 (2); urgent 2-7 (6); not urgent 8-19 (12).
URGENCY = ["emergency"] * 2 + ["urgent"] * 6 + ["not_urgent"] * 12

# Referrals: police 0-3 (4); sexual-violence centre 0, 4-7 (5); child protection 0-5 (6);
# shelter or care 8, 9 (2); other none. Any referral: 0-9 (10).
REFERRALS: list[tuple[str, ...]] = []
for i in range(N):
    ticked = []
    if i <= 3:
        ticked.append("police")
    if i == 0 or 4 <= i <= 7:
        ticked.append("sexual_violence_centre")
    if i <= 5:
        ticked.append("child_protection")
    if i in (8, 9):
        ticked.append("shelter_care")
    REFERRALS.append(tuple(ticked))

# The days of contact: one in 2020 each; victim 0 also came on 3 March 2019 (counted in
# 2019 too), victim 1 came three times in 2020 (counted once).
CONTACTS: list[list[dt.date]] = [[dt.date(2020, 1 + i % 12, 1 + i)] for i in range(N)]
CONTACTS[0].append(dt.date(2019, 3, 3))
CONTACTS[1] += [dt.date(2020, 2, 14), dt.date(2020, 12, 31)]

# The eight victims of 2019 of their own (and the one at the edges of 2020): women of 20
# met in person by a partner, telling for the second time, not blackmailed.
OWN_2019: dict[str, Any] = {
    "contact_type": "self",
    "age": 20,
    "gender": "girl",
    "first_disclosure": "no",
    "still_exploited": "no",
    "sextortion": "no",
    "perpetrators": ("partner",),
    "recruitment": "in_person",
    "urgency": "not_urgent",
}
# 2018: three boys of 16 about whom someone else got in touch.
OWN_2018: dict[str, Any] = {"contact_type": "about_victim", "age": 16, "gender": "boy"}


def record_2020(i: int) -> dict[str, Any]:
    return {
        "contact_type": CONTACT[i],
        "age": AGE[i],
        "age_band": BAND[i],
        "gender": GENDER[i],
        "exploitation": EXPLOITATION[i],
        "perpetrators": PERPETRATORS[i],
        "perpetrator_count": COUNT[i],
        "still_exploited": STILL[i],
        "duration": DURATION[i],
        "first_disclosure": FIRST_DISCLOSURE[i],
        "recruitment": RECRUITMENT[i],
        "platform": PLATFORM[i],
        "sextortion": SEXTORTION[i],
        "referrals": REFERRALS[i],
        "urgency": URGENCY[i],
    }


def make_case(
    answers: dict[str, Any], contacts: list[dt.date], *, coded: bool = True, synthetic: bool = False
) -> Case:
    """A case with ``answers`` (checked by the codebook) and a contact on each day."""
    case = Case(created_at=CODED_AT, synthetic=synthetic)
    case.set_answers(codebook.validate(answers))
    if coded:
        case.coded_at = CODED_AT
        case.codebook_version = codebook.VERSION
    case.save()
    CaseContact.objects.bulk_create(CaseContact(case=case, on=day) for day in contacts)
    return case


def build_cases() -> None:
    """The whole hand-built set (see the module docstring)."""
    for i in range(N):
        make_case(record_2020(i), CONTACTS[i])
    for i in range(8):
        make_case(OWN_2019, [dt.date(2019, 4 + i, 10)])
    # At the edges of 2020, and in neither: counted in 2019 and in 2021.
    make_case(OWN_2019, [dt.date(2019, 12, 31), dt.date(2021, 1, 1)])
    for i in range(3):
        make_case(OWN_2018, [dt.date(2018, 5, 1 + i)])
    # Never counted: contacts without data, and a case not coded yet (it would count as a
    # victim by its default answers, which say "self").
    for kind in ("silent", "test", "abusive"):
        make_case({"contact_type": kind}, [dt.date(2020, 6, 1)])
    make_case({}, [dt.date(2020, 6, 2)], coded=False)


@pytest.fixture
def cases() -> None:
    build_cases()


# What period_counts gives for 2020, worked out from the columns above.
EXPECTED_2020: dict[str, int | None] = {
    "victims": 20,
    "synthetic": 0,
    "contact_type:self": 16,
    "contact_type:about_victim": 4,
    "age:told": 10,
    "age:minor": 15,
    "age:adult": 4,
    "age:up_to_15": 3,
    "age:youngest": 9,
    "age:oldest": 50,
    # Bands: a told age is placed in its band (0: under 12; 1: 12-15; 3-8: 16-17; 15: 35+;
    # 16: 18-24), so under 12: 1; 12-15: 2; 16-17: 12; 18-24: 2; 25-34: 1; 35+: 1.
    "age_band:under_12": 1,
    "age_band:12_15": 2,
    "age_band:16_17": 12,
    "age_band:18_24": 2,
    "age_band:25_34": 1,
    "age_band:35_plus": 1,
    "age_band:unknown": 1,
    "gender:girl": 14,
    "gender:boy": 3,
    "gender:non_binary": 1,
    "gender:unknown": 2,
    "first_disclosure:yes": 12,
    "first_disclosure:no": 6,
    "first_disclosure:unknown": 2,
    "still_exploited:yes": 5,
    "still_exploited:no": 10,
    "still_exploited:unknown": 5,
    "sextortion:yes": 5,
    "sextortion:no": 15,
    "sextortion:unknown": 0,
    "parents:any": 4,
    "parents:father": 2,
    "parents:mother": 3,
    "parents:stepfather": 1,
    "parents:stepmother": 0,
    "parents:both": 2,
    "parents:both:duration:2_5": 1,
    "parents:both:duration:1_2": 1,
    "parents:both:duration:under_1": 0,
    "parents:both:duration:5_plus": 0,
    "parents:both:duration:unknown": 0,
    "perpetrators:known": 16,
    "perpetrators:several": 5,
    "perpetrators:unknown": 5,  # 6-10 ticked "unknown" (6 gave a number)
    "perpetrators:any": 15,  # all but 6-10
    "perpetrators:partner": 3,
    "perpetrators:online_contact": 3,
    "perpetrators:client": 2,
    "perpetrators:sibling": 1,
    "exploitation:sexual": 18,
    "exploitation:labour": 1,
    "exploitation:criminal": 3,
    "exploitation:other": 0,
    "exploitation:any": 19,  # all but 19
    "duration:2_5": 1,
    "duration:1_2": 1,
    "duration:under_1": 1,
    "duration:unknown": 17,
    "recruitment:family": 4,
    "recruitment:social_media": 8,
    "recruitment:in_person": 5,
    "recruitment:other": 1,
    "recruitment:unknown": 2,
    "platform:instagram": 3,
    "platform:snapchat": 2,
    "platform:tiktok": 1,
    "platform:unknown": 2,
    "platform:facebook": 0,
    "urgency:emergency": 2,
    "urgency:urgent": 6,
    "urgency:not_urgent": 12,
    "referrals:police": 4,
    "referrals:sexual_violence_centre": 5,
    "referrals:child_protection": 6,
    "referrals:shelter_care": 2,
    "referrals:other": 0,
    "referrals:any": 10,
}


def test_the_counts_of_2020_are_the_ones_worked_out_by_hand(cases: None) -> None:
    """Every count of the hand-built year, as the comments above work it out."""
    counts = period_counts(*YEAR_2020)
    assert {name: counts[name] for name in EXPECTED_2020} == EXPECTED_2020


def test_every_count_name_is_present_and_whole(cases: None) -> None:
    """The counts are the contract with figures.py: every name of count_expressions, as
    an int (or None for an age when no age was told)."""
    counts = period_counts(*YEAR_2020)
    assert set(counts) == set(count_expressions())
    assert all(isinstance(value, int) for value in counts.values())
    empty = period_counts(*YEAR_2017)
    assert empty["victims"] == 0
    assert empty["age:youngest"] is None and empty["age:oldest"] is None
    assert {name for name, value in empty.items() if value} == set()


def test_each_victim_counts_once_per_year_and_in_every_year_they_came(cases: None) -> None:
    """Victim 1 came three times in 2020 and counts once; victim 0 came in 2019 and 2020
    and counts in both; the victim who came on 31 December 2019 and 1 January 2021 counts
    in 2019 and 2021 but not in 2020; contacts without data and the uncoded case are in
    no year."""
    assert period_counts(*YEAR_2020)["victims"] == 20
    # 2019: eight of its own + victim 0 of 2020 + the one at the edge = 10.
    counts_2019 = period_counts(*YEAR_2019)
    assert counts_2019["victims"] == 10
    # Victim 0 brings its answers along: the only one in 2019 with parents involved, the
    # only one telling for the first time, the only one blackmailed, the youngest.
    assert counts_2019["parents:any"] == 1
    assert counts_2019["first_disclosure:yes"] == 1
    assert counts_2019["sextortion:yes"] == 1
    assert counts_2019["age:youngest"] == 9
    assert counts_2019["age:oldest"] == 20
    assert period_counts(*YEAR_2021)["victims"] == 1
    assert period_counts(*YEAR_2018)["victims"] == 3
    assert period_counts(*YEAR_2017)["victims"] == 0


def test_contacts_without_data_and_uncoded_cases_are_not_counted(cases: None) -> None:
    """Only the no-data and uncoded cases have a contact on 1 or 2 June 2020: a period of
    those two days counts nobody, while a period with victim 5's day (6 June) counts one."""
    assert period_counts(dt.date(2020, 6, 1), dt.date(2020, 6, 3))["victims"] == 0
    assert period_counts(dt.date(2020, 6, 1), dt.date(2020, 6, 7))["victims"] == 1
    # The same cases, made victims, would count: the filter is what keeps them out.
    Case.objects.filter(contact_type__in=["silent", "test", "abusive"]).update(contact_type="self")
    assert period_counts(dt.date(2020, 6, 1), dt.date(2020, 6, 3))["victims"] == 3
    Case.objects.filter(coded_at__isnull=True).update(coded_at=CODED_AT)
    assert period_counts(dt.date(2020, 6, 1), dt.date(2020, 6, 3))["victims"] == 4


def test_a_period_is_start_inclusive_and_end_exclusive(cases: None) -> None:
    """[start, end): victim 0's first contact is on 1 January 2020 (counted from that day)
    and victim 1's last on 31 December 2020."""
    assert period_counts(dt.date(2020, 1, 1), dt.date(2020, 1, 2))["victims"] == 1
    assert period_counts(dt.date(2019, 12, 31), dt.date(2020, 1, 1))["victims"] == 1  # edge
    assert period_counts(dt.date(2020, 12, 31), dt.date(2021, 1, 1))["victims"] == 1


def test_invented_cases_are_counted_and_said_to_be(cases: None) -> None:
    """``synthetic`` counts the invented cases among the victims."""
    make_case(OWN_2019, [dt.date(2020, 7, 7)], synthetic=True)
    counts = period_counts(*YEAR_2020)
    assert (counts["victims"], counts["synthetic"]) == (21, 1)


def test_period_counts_is_one_query(cases: None, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    """All counts of a period come from one aggregate query in the database."""
    with django_assert_num_queries(1) as captured:
        period_counts(*YEAR_2020)
    sql = captured.captured_queries[0]["sql"].upper()
    # Conditional counts (identical ones, such as a father among the parents and among the
    # perpetrators, are computed once).
    assert sql.count("COUNT(") > 50
    assert "GROUP BY" not in sql


def test_a_yearly_report_with_three_years_of_history_is_four_queries(cases: None) -> None:
    """One query per period: the year and the three before it."""
    with CaptureQueriesContext(connection) as captured:
        report = yearly_report(start=YEAR_2020[0], end=YEAR_2020[1], public=True, threshold=10)
    assert len(captured.captured_queries) == 4
    assert report.period_label == "2020"
    with CaptureQueriesContext(connection) as captured:
        yearly_report(start=YEAR_2020[0], end=YEAR_2020[1], public=False, threshold=10, history=0)
    assert len(captured.captured_queries) == 1


def test_report_periods_go_back_whole_years_newest_first(cases: None) -> None:
    periods = report_periods(*YEAR_2020, history=3)
    assert [p.label for p in periods] == ["2020", "2019", "2018", "2017"]
    assert [p.counts["victims"] for p in periods] == [20, 10, 3, 0]
    spring = report_periods(dt.date(2020, 3, 1), dt.date(2020, 9, 1), history=1)
    assert [p.label for p in spring] == ["2020-03-01/2020-08-31", "2019-03-01/2019-08-31"]


def test_shift_years_and_period_labels() -> None:
    """29 February becomes 28 February a year back; a calendar year is labelled by its
    number, any other period by its first and last day."""
    assert shift_years(dt.date(2020, 2, 29), 1) == dt.date(2019, 2, 28)
    assert shift_years(dt.date(2020, 2, 29), 4) == dt.date(2016, 2, 29)
    assert period_label(dt.date(2020, 1, 1), dt.date(2021, 1, 1)) == "2020"
    assert period_label(dt.date(2020, 1, 1), dt.date(2020, 7, 1)) == "2020-01-01/2020-06-30"
    assert period_label(dt.date(2020, 1, 2), dt.date(2021, 1, 2)) == "2020-01-02/2021-01-01"
