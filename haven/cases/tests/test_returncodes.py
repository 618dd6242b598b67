"""Return-code phrases: generating, normalising what a visitor typed, and the keyed hash."""

from __future__ import annotations

import pytest

from haven.cases import returncodes


def test_the_word_list_is_plain_and_distinct() -> None:
    """Lower-case ASCII letters only, no repeats, so any keyboard can type every word."""
    assert len(set(returncodes.WORDS)) == len(returncodes.WORDS)
    assert all(word.isascii() and word.isalpha() and word.islower() for word in returncodes.WORDS)
    # Four words from the list give at least 2**32 phrases (see the module docstring).
    assert len(returncodes.WORDS) ** returncodes.WORDS_PER_CODE >= 2**32


def test_a_generated_code_is_four_listed_words_joined_by_hyphens() -> None:
    """What the visitor is shown is already in normalised form and looks valid."""
    for _ in range(50):
        phrase = returncodes.generate()
        words = phrase.split("-")
        assert len(words) == returncodes.WORDS_PER_CODE
        assert all(word in returncodes.WORDS for word in words)
        assert returncodes.normalise(phrase) == phrase
        assert returncodes.looks_valid(phrase)


def test_retired_words_are_never_handed_out_but_still_accepted() -> None:
    """A code given before a word was retired keeps working; new codes never use that word."""
    assert returncodes.RETIRED.isdisjoint(returncodes.WORDS)
    assert returncodes.looks_valid("aap-kus-boom-sabel")


def test_generated_codes_differ() -> None:
    """Codes come from a random source: a hundred in a row are (practically) all different."""
    assert len({returncodes.generate() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    "typed",
    [
        "aap-boom-kat-vis",
        "Aap Boom Kat Vis",
        "  aap  boom\tkat\nvis  ",
        "AAP.BOOM.KAT.VIS",
        "aap_boom,kat;vis",
        "aap/boom:kat - vis",
        "-aap--boom--kat--vis-",
        "Aap böom kát vîs",
    ],
)
def test_normalise_accepts_the_ways_people_type_a_phrase(typed: str) -> None:
    """Case, accents and any mix of separators do not matter."""
    assert returncodes.normalise(typed) == "aap-boom-kat-vis"


def test_normalise_removes_accents_from_letters() -> None:
    """A phone that adds a diaeresis (pinguïn) still gives the listed word."""
    assert returncodes.normalise("Pinguïn Zeehond Eend Uil") == "pinguin-zeehond-eend-uil"


@pytest.mark.parametrize(
    "phrase",
    ["", "aap", "aap-boom-kat", "aap-boom-kat-vis-uil", "aap-boom-kat-xyz", "aap-boom-kat-Vis"],
)
def test_looks_valid_refuses_the_wrong_shape(phrase: str) -> None:
    """Wrong word count or an unlisted word fails before any database lookup."""
    assert not returncodes.looks_valid(phrase)


def test_digest_is_keyed_and_never_contains_the_phrase() -> None:
    """The same phrase under the same key gives the same HMAC-SHA256 (hex); another key or
    another phrase gives another, so a database copy without the key tests nothing."""
    phrase = "aap-boom-kat-vis"
    first = returncodes.digest(phrase, key=b"k" * 32)
    assert first == returncodes.digest(phrase, key=b"k" * 32)
    assert len(first) == 64
    assert int(first, 16) >= 0
    assert first != returncodes.digest(phrase, key=b"j" * 32)
    assert first != returncodes.digest("aap-boom-kat-uil", key=b"k" * 32)
    assert "aap" not in first


def test_digest_of_typed_variants_matches_once_normalised() -> None:
    """A visitor who types the phrase differently finds the same stored hash."""
    key = b"server key"
    stored = returncodes.digest("kat-vis-aap-boom", key=key)
    assert returncodes.digest(returncodes.normalise(" Kat VIS aap.boom "), key=key) == stored
