"""The frame parser: anything that is not a well-formed frame is a FrameError, never a crash."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.chat.protocol import (
    COUNSELLOR_FRAMES,
    MAX_FRAME_BYTES,
    VISITOR_FRAMES,
    FrameError,
    parse_frame,
)


def test_a_valid_send_frame_keeps_only_known_fields() -> None:
    """Unknown extra fields are dropped, so nothing unexpected reaches a service."""
    frame = parse_frame(
        json.dumps({"type": "send", "client_id": "a", "text": "hoi", "admin": True}),
        VISITOR_FRAMES,
    )
    assert frame == {"type": "send", "client_id": "a", "text": "hoi"}


def test_conversation_ids_become_uuids() -> None:
    conversation = uuid.uuid4()
    frame = parse_frame(
        json.dumps({"type": "accept", "conversation": str(conversation)}), COUNSELLOR_FRAMES
    )
    assert frame["conversation"] == conversation


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "bad_frame"),
        (b"\xff", "bad_frame"),
        ("", "bad_frame"),
        ("[]", "bad_frame"),
        ("null", "bad_frame"),
        ('{"type": "send"}', "bad_field"),
        ('{"type": "accept", "conversation": "not-a-uuid"}', "unknown_type"),
        ('{"type": "resume", "token": "t", "last_seq": 1.5}', "bad_field"),
        ('{"type": "resume", "token": "t", "last_seq": 4294967296}', "bad_field"),
        ('{"type": "send", "client_id": "' + "c" * 65 + '", "text": "x"}', "bad_field"),
        ('{"type": "send", "client_id": "id\\u0000", "text": "x"}', "bad_field"),
        ('{"type": "send", "client_id": "a b", "text": "x"}', "bad_field"),
        ('{"type": "resume", "token": "tok\\u202e", "last_seq": 0}', "bad_field"),
        ('{"type": "send", "client_id": "a", "text": "\\ud800"}', "bad_field"),
        ("[" * 100000 + "]" * 100000, "frame_too_large"),
        ("[" * 5000 + "]" * 5000, "bad_frame"),
    ],
)
def test_malformed_frames_raise_frame_error(raw: str | bytes | None, code: str) -> None:
    with pytest.raises(FrameError) as error:
        parse_frame(raw, VISITOR_FRAMES)
    assert error.value.code == code


def test_frame_size_is_counted_in_bytes() -> None:
    """Four-byte characters count as four: the limit is on what travels, not on letters."""
    text = "😀" * (MAX_FRAME_BYTES // 4)
    with pytest.raises(FrameError) as error:
        parse_frame(
            json.dumps({"type": "send", "client_id": "a", "text": text}, ensure_ascii=False),
            VISITOR_FRAMES,
        )
    assert error.value.code == "frame_too_large"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.text(max_size=2000))
def test_any_text_either_parses_or_raises_frame_error(raw: str) -> None:
    """Property: arbitrary text never raises anything but FrameError."""
    for schema in (VISITOR_FRAMES, COUNSELLOR_FRAMES):
        try:
            frame = parse_frame(raw, schema)
        except FrameError:
            continue
        assert frame["type"] in schema


@given(
    st.sampled_from(sorted({*VISITOR_FRAMES, *COUNSELLOR_FRAMES, "other"})),
    st.dictionaries(
        st.sampled_from(
            ["client_id", "text", "token", "last_seq", "conversation", "seq", "covered"]
        ),
        json_values,
    ),
)
def test_any_json_object_either_parses_to_the_schema_or_raises(
    frame_type: str, fields: dict
) -> None:  # type: ignore[type-arg]
    """Property: a parsed frame always has exactly the schema's fields with the right types."""
    raw = json.dumps({"type": frame_type, **fields})
    for schema in (VISITOR_FRAMES, COUNSELLOR_FRAMES):
        try:
            frame = parse_frame(raw, schema)
        except FrameError as error:
            assert error.code in {"bad_frame", "unknown_type", "bad_field", "frame_too_large"}
            continue
        assert set(frame) == {"type"} | {f.name for f in schema[frame_type]}
        for spec in schema[frame_type]:
            expected = {"int": int, "str": str, "id": str, "uuid": uuid.UUID, "bool": bool}
            assert isinstance(frame[spec.name], expected[spec.kind])
            # A boolean only where the schema asks for one (bool is an int in Python).
            assert isinstance(frame[spec.name], bool) == (spec.kind == "bool")


def test_sent_numbers_sends_each_number_once_also_out_of_order() -> None:
    """A late event whose number was never sent is sent, even after a higher one; a number
    already sent (in a history or live) is not sent again."""
    from haven.chat.protocol import SentNumbers

    sent = SentNumbers()
    sent.cover(3)  # a history up to 3
    assert not sent.first_time(2)
    assert sent.first_time(5)  # 4 is late (published by another worker)
    assert sent.first_time(4)
    assert not sent.first_time(4) and not sent.first_time(5)
    assert (sent.upto, sent.above) == (5, set())
    assert sent.first_time(6)


def test_sent_numbers_keeps_its_memory_bounded() -> None:
    """A socket that never got a history keeps at most LIMIT numbers above its mark."""
    from haven.chat.protocol import SentNumbers

    sent = SentNumbers()
    for seq in range(10, 10 + 3 * SentNumbers.LIMIT):
        assert sent.first_time(seq)
    assert len(sent.above) <= SentNumbers.LIMIT
    assert not sent.first_time(10 + SentNumbers.LIMIT)
