"""The codebook's table and its validation rules (plain Python, no database)."""

from __future__ import annotations

import re

import pytest

from haven.cases import codebook
from haven.cases.codebook import Kind


def problems(raw: dict[str, object]) -> dict[str, list[str]]:
    """The messages ``validate`` refuses ``raw`` with, by question (formatted)."""
    with pytest.raises(codebook.Invalid) as caught:
        codebook.validate(raw)
    return {name: [str(p) for p in found] for name, found in caught.value.errors.items()}


# --- the table ---------------------------------------------------------------------------


def test_names_and_codes_are_unique_short_identifiers() -> None:
    """Question names and option codes are stable ASCII identifiers that fit the columns
    (a ONE column holds 32 characters; MANY columns are named ``<question>_<code>``)."""
    assert len(set(codebook.NAMES)) == len(codebook.NAMES)
    for question in codebook.QUESTIONS:
        assert re.fullmatch(r"[a-z][a-z_]*", question.name)
        assert len(set(question.codes)) == len(question.codes), question.name
        for code in question.codes:
            assert code == "" or re.fullmatch(r"[a-z0-9][a-z0-9_]*", code), code
            assert len(code) <= 32
        assert question.label
        assert all(option.label for option in question.options)


def test_every_default_is_an_allowed_answer() -> None:
    """A fresh form (all defaults) is a valid record: a counsellor can save it at once."""
    record = codebook.validate(codebook.defaults())
    assert record == codebook.defaults()
    assert set(record) == set(codebook.NAMES)


def test_the_issue_s_required_questions_and_options_are_there() -> None:
    """The codebook covers what the yearly figures need (see issue 4)."""
    expected = {
        "contact_type": {"self", "about_victim", "silent", "test", "abusive"},
        "gender": {"girl", "boy", "non_binary", "unknown"},
        "exploitation": {"sexual", "labour", "criminal", "other"},
        "still_exploited": {"yes", "no", "unknown"},
        "duration": {"under_1", "1_2", "2_5", "5_plus", "unknown"},
        "first_disclosure": {"yes", "no", "unknown"},
        "recruitment": {"in_person", "family", "social_media", "other", "unknown"},
        "sextortion": {"yes", "no", "unknown"},
        "referrals": {"police", "sexual_violence_centre", "child_protection", "shelter_care"},
        "urgency": {"emergency", "urgent", "not_urgent"},
    }
    for name, codes in expected.items():
        assert codes <= set(codebook.BY_NAME[name].codes), name
    perpetrators = set(codebook.BY_NAME["perpetrators"].codes)
    assert {*codebook.PARENT_CODES, "sibling", "partner", "client", "unknown"} <= perpetrators
    assert codebook.BY_NAME["age"].kind is Kind.NUMBER
    assert codebook.BY_NAME["perpetrator_count"].kind is Kind.NUMBER


def test_age_bands_cover_every_age_without_overlap() -> None:
    """Each whole age falls in exactly one band, split at 12, 16, 18, 25 and 35."""
    assert codebook.band_for_age(0) == "under_12"
    assert codebook.band_for_age(11) == "under_12"
    assert codebook.band_for_age(12) == "12_15"
    assert codebook.band_for_age(15) == "12_15"
    assert codebook.band_for_age(16) == "16_17"
    assert codebook.band_for_age(17) == "16_17"
    assert codebook.band_for_age(18) == "18_24"
    assert codebook.band_for_age(24) == "18_24"
    assert codebook.band_for_age(25) == "25_34"
    assert codebook.band_for_age(35) == "35_plus"
    assert codebook.band_for_age(99) == "35_plus"
    assert codebook.UP_TO_15_BANDS < codebook.MINOR_BANDS
    bands = {code for code, _low, _high in codebook.AGE_BANDS}
    assert bands | {"unknown"} == set(codebook.BY_NAME["age_band"].codes)


def test_only_self_and_about_victim_describe_a_victim() -> None:
    """Silent, test and abusive contacts are not counted as victims."""
    for code in codebook.BY_NAME["contact_type"].codes:
        expected = code in {"self", "about_victim"}
        assert codebook.is_victim({"contact_type": code}) is expected


# --- validation --------------------------------------------------------------------------


def test_missing_questions_take_their_defaults() -> None:
    """A partial record is completed with defaults (MANY answers as tuples)."""
    record = codebook.validate({"gender": "boy"})
    assert record["gender"] == "boy"
    assert record["urgency"] == "not_urgent"
    assert record["exploitation"] == ()
    assert record["age"] is None


def test_unknown_questions_are_refused() -> None:
    """A key the codebook does not know is a record-level problem, never silently dropped."""
    assert problems({"colour": "blue", "name": "x"}) == {"": ["Unknown questions: colour, name."]}


def test_a_one_answer_must_be_an_option() -> None:
    """A code that is not an option, a wrong type or an empty value is refused."""
    assert problems({"gender": "female"}) == {"gender": ["Choose one of the options."]}
    assert problems({"urgency": 3}) == {"urgency": ["Choose one of the options."]}
    assert problems({"urgency": None}) == {"urgency": ["Choose one of the options."]}


def test_many_answers_are_normalised_to_codebook_order_without_duplicates() -> None:
    """Order of choice and repeats do not matter; one string counts as one choice."""
    record = codebook.validate({"exploitation": ["other", "sexual", "other"]})
    assert record["exploitation"] == ("sexual", "other")
    assert codebook.validate({"referrals": "police"})["referrals"] == ("police",)
    assert codebook.validate({"referrals": ""})["referrals"] == ()
    assert codebook.validate({"referrals": None})["referrals"] == ()


def test_many_answers_refuse_codes_that_are_not_options() -> None:
    """Every bad code is named, and a non-list is refused."""
    assert problems({"exploitation": ["sexual", "drugs", "x"]}) == {
        "exploitation": ["Not an option: drugs, x."]
    }
    assert problems({"exploitation": 5}) == {"exploitation": ["Choose from the options."]}


def test_unknown_perpetrator_excludes_every_other() -> None:
    """'Unknown' and a known kind of perpetrator contradict each other."""
    assert problems({"perpetrators": ["unknown", "client"]}) == {
        "perpetrators": ["'Unknown' cannot be combined with other answers."]
    }
    assert codebook.validate({"perpetrators": ["unknown"]})["perpetrators"] == ("unknown",)


@pytest.mark.parametrize(
    ("given", "stored"),
    [(None, None), ("", None), (14, 14), ("14", 14), (" 14 ", 14), (14.0, 14)],
)
def test_numbers_accept_whole_numbers_or_nothing(given: object, stored: object) -> None:
    """A number may be given as an int, a whole float or digits; empty means not known."""
    assert codebook.validate({"age": given})["age"] == stored


@pytest.mark.parametrize("given", ["fourteen", "14.5", 14.5, True, "-3", [14]])
def test_anything_else_is_not_a_number(given: object) -> None:
    """Text, fractions, booleans and negatives are refused with one explaining message."""
    assert problems({"age": given}) == {"age": ["Enter a whole number, or leave it empty."]}


def test_a_told_age_must_be_plausible() -> None:
    """Ages outside AGE_MIN..AGE_MAX are refused (the bounds themselves are allowed)."""
    message = f"Enter an age from {codebook.AGE_MIN} to {codebook.AGE_MAX}, or leave it empty."
    assert problems({"age": codebook.AGE_MIN - 1}) == {"age": [message]}
    assert problems({"age": codebook.AGE_MAX + 1}) == {"age": [message]}
    assert codebook.validate({"age": codebook.AGE_MIN})["age"] == codebook.AGE_MIN
    assert codebook.validate({"age": codebook.AGE_MAX})["age"] == codebook.AGE_MAX


def test_a_told_age_fills_in_its_band() -> None:
    """With the band left on 'unknown' (or given correctly), the age decides the band."""
    assert codebook.validate({"age": 14})["age_band"] == "12_15"
    assert codebook.validate({"age": 14, "age_band": "12_15"})["age_band"] == "12_15"
    assert codebook.validate({"age_band": "16_17"})["age_band"] == "16_17"


def test_a_band_that_contradicts_the_age_is_refused() -> None:
    """A typo in either the age or the band must not silently win."""
    found = problems({"age": 14, "age_band": "18_24"})
    assert list(found) == ["age_band"]
    assert "does not match the age" in found["age_band"][0]


def test_a_platform_is_given_exactly_when_recruited_through_social_media() -> None:
    """Social media needs a platform ('unknown' is fine); other recruitment allows none."""
    assert problems({"recruitment": "social_media"}) == {
        "platform": ["Choose the platform (or 'unknown'): the recruitment was online."]
    }
    assert problems({"recruitment": "in_person", "platform": "tiktok"}) == {
        "platform": ["A platform is only given when recruited through social media."]
    }
    assert problems({"platform": "tiktok"})  # the default recruitment is 'unknown'
    record = codebook.validate({"recruitment": "social_media", "platform": "unknown"})
    assert record["platform"] == "unknown"


def test_the_number_of_perpetrators_is_bounded_and_consistent() -> None:
    """At least 1, at most PERPETRATORS_MAX, and not fewer than the kinds chosen
    ('unknown' is not a kind)."""
    high = codebook.PERPETRATORS_MAX
    assert problems({"perpetrator_count": 0}) == {
        "perpetrator_count": [f"Enter a number from 1 to {high}, or leave it empty."]
    }
    assert problems({"perpetrator_count": high + 1})
    assert problems({"perpetrators": ["father", "client"], "perpetrator_count": 1}) == {
        "perpetrator_count": [
            "The number of perpetrators is smaller than the kinds of perpetrator chosen."
        ]
    }
    ok = codebook.validate({"perpetrators": ["unknown"], "perpetrator_count": 1})
    assert ok["perpetrator_count"] == 1
    assert codebook.validate({"perpetrators": ["client"], "perpetrator_count": 3})


@pytest.mark.parametrize("contact_type", ["silent", "test", "abusive"])
def test_a_contact_without_data_carries_no_victim_answers(contact_type: str) -> None:
    """No-data contacts may not describe a victim; the answers to clear are named.
    Referral and urgency are about the contact itself and stay allowed."""
    found = problems({"contact_type": contact_type, "gender": "girl", "exploitation": ["sexual"]})
    assert found == {
        "contact_type": [
            "A contact without data carries no answers about a victim. Clear: gender, exploitation."
        ]
    }
    record = codebook.validate(
        {"contact_type": contact_type, "referrals": ["other"], "urgency": "urgent"}
    )
    assert record["urgency"] == "urgent"


def test_every_problem_is_reported_at_once() -> None:
    """A record with many mistakes gets all of them in one answer, so the form can show
    every field to fix together."""
    found = problems(
        {
            "gender": "x",
            "age": 200,
            "perpetrators": ["unknown", "peer"],
            "recruitment": "in_person",
            "platform": "snapchat",
            "referrals": ["nowhere"],
            "perpetrator_count": "many",
            "bogus": 1,
        }
    )
    assert set(found) == {
        "",
        "gender",
        "age",
        "perpetrators",
        "platform",
        "referrals",
        "perpetrator_count",
    }


def test_invalid_says_what_is_wrong_in_its_text() -> None:
    """The exception's text (for logs and commands) names the fields and filled-in messages."""
    with pytest.raises(codebook.Invalid) as caught:
        codebook.validate({"age": 1})
    assert (
        str(caught.value) == f"age: Enter an age from {codebook.AGE_MIN} to 99, or leave it empty."
    )
    problem = caught.value.errors["age"][0]
    assert problem.message.startswith("Enter an age from %(low)s")
    assert dict(problem.params) == {"low": codebook.AGE_MIN, "high": codebook.AGE_MAX}
