"""The feedback figures (haven.feedback.questions): plain Python."""

from __future__ import annotations

from haven.feedback.questions import is_answer, summarise

COUNTS = {"helped": {"yes": 25, "a_little": 3, "no": 12}, "come_back": {"yes": 30, "maybe": 10}}


def test_the_internal_figures_are_exact_with_shares_of_those_who_answered() -> None:
    figures = summarise(COUNTS, public=False, threshold=None)
    helped, come_back = figures["questions"]
    assert helped["answered"] == 40
    assert [(o["code"], o["count"], o["percent"]) for o in helped["options"]] == [
        ("yes", 25, 62.5),
        ("a_little", 3, 7.5),
        ("no", 12, 30.0),
    ]
    assert [o["count"] for o in come_back["options"]] == [30, 10, 0]


def test_public_figures_hide_small_numbers_and_what_would_reveal_them() -> None:
    """3 "a little" is below 10: hidden, and one more cell with it, so that the total
    minus the shown cells does not give it away. Zero is shown."""
    helped, come_back = summarise(COUNTS, public=True, threshold=10)["questions"]
    shown = {o["code"]: o["count"] for o in helped["options"]}
    assert shown["a_little"] is None
    assert sum(v is None for v in shown.values()) >= 2 or helped["answered"] is None
    assert all(o["withheld"] for o in helped["options"] if o["count"] is None)
    assert [o["count"] for o in come_back["options"]] == [30, 10, 0]


def test_nobody_answered_gives_zeros_and_no_shares() -> None:
    helped, _come_back = summarise({}, public=True, threshold=10)["questions"]
    assert helped["answered"] == 0
    assert [(o["count"], o["percent"]) for o in helped["options"]] == [(0, None)] * 3


def test_only_the_offered_answers_count_as_answers() -> None:
    assert is_answer("helped", "a_little") and is_answer("helped", "")
    assert not is_answer("helped", "maybe") and not is_answer("come_back", "a_little")
