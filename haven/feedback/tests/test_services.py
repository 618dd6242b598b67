"""Storing feedback and counting it: never linked to a chat."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from channels.db import database_sync_to_async
from django.test.utils import CaptureQueriesContext

from haven.chat.services import MessageInvalid, Refused
from haven.feedback import selectors, services
from haven.feedback.models import FeedbackTally

pytestmark = pytest.mark.django_db


def total() -> int:
    return sum(FeedbackTally.objects.values_list("count", flat=True))


def test_an_answer_is_only_added_to_the_months_counts(clock) -> None:  # type: ignore[no-untyped-def]
    """No row per answer: each answer adds 1 to its month's count, so no column and no row
    order can line it up with the chat it came after."""
    services.feedback_give(helped="yes", come_back="maybe")
    services.feedback_give(helped="yes", come_back="")
    rows = set(FeedbackTally.objects.values_list("month", "question", "answer", "count"))
    assert rows == {
        (dt.date(2026, 3, 1), "helped", "yes", 2),
        (dt.date(2026, 3, 1), "come_back", "maybe", 1),
    }
    fields = {field.name for field in FeedbackTally._meta.get_fields()}
    assert fields == {"id", "month", "question", "answer", "count"}


def test_one_question_may_be_left_out_but_not_both_and_only_offered_answers(clock) -> None:  # type: ignore[no-untyped-def]
    services.feedback_give(helped="", come_back="no")
    with pytest.raises(MessageInvalid):
        services.feedback_give(helped="", come_back="")
    with pytest.raises(MessageInvalid):
        services.feedback_give(helped="maybe", come_back="")
    assert total() == 1


def test_one_source_cannot_fill_the_figures(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HAVEN_FEEDBACK_PER_SOURCE_PER_HOUR = 2
    for _ in range(2):
        services.feedback_give(helped="yes", come_back="", source="one")
    with pytest.raises(Refused):
        services.feedback_give(helped="yes", come_back="", source="one")
    services.feedback_give(helped="no", come_back="", source="another")
    assert total() == 3


def test_the_counts_of_a_period_in_one_query(clock, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    """By month: March counts in 2026, a February answer of another year does not."""
    services.feedback_give(helped="yes", come_back="yes")
    services.feedback_give(helped="yes", come_back="")
    services.feedback_give(helped="no", come_back="maybe")
    FeedbackTally.objects.create(month=dt.date(2025, 2, 1), question="helped", answer="no", count=4)
    with django_assert_num_queries(1):
        counts = selectors.feedback_counts(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    assert counts == {"helped": {"yes": 2, "no": 1}, "come_back": {"yes": 1, "maybe": 1}}


def test_the_figures_page_shows_the_feedback(clock, make_staff) -> None:  # type: ignore[no-untyped-def]
    """On the page and in the JSON and CSV downloads of the year."""
    from django.test import Client

    from haven.conftest import sign_in_fully

    for _ in range(12):
        services.feedback_give(helped="yes", come_back="yes")
    client = Client()
    sign_in_fully(client, make_staff("ana", "analyst"))
    page = client.get("/en/console/reports/", {"year": "2026"}).content.decode()
    assert 'data-section="feedback"' in page
    assert "Did this chat help you?" in page and "Yes: 12 (100.0%)" in page
    data = json.loads(
        client.get("/en/console/reports/", {"year": "2026", "format": "json"}).content
    )
    helped = data["feedback"]["questions"][0]
    assert helped["text"]["nl"] == "Had je iets aan deze chat?"
    assert helped["options"][0]["count"] == 12
    csv = client.get("/en/console/reports/", {"year": "2026", "format": "csv"}).content.decode()
    assert "feedback,helped:yes," in csv


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_visitor_page_call_stores_an_answer() -> None:
    """Through the whole ASGI stack, as the page's script sends it."""
    from haven.letters.tests.test_views import call

    status, body, headers = await call("/feedback", {"helped": "a_little", "come_back": ""})
    assert (status, body) == (200, {"ok": True})
    assert b"set-cookie" not in headers
    status, body, _headers = await call("/feedback", {"helped": "", "come_back": ""})
    assert (status, body["error"]) == (400, "empty")
    assert await database_sync_to_async(total)() == 1


def test_queries_stay_flat(clock) -> None:  # type: ignore[no-untyped-def]
    """Counting a year of months is still one grouped query."""
    from django.db import connection

    FeedbackTally.objects.bulk_create(
        FeedbackTally(month=dt.date(2026, m, 1), question="helped", answer="yes", count=m)
        for m in range(1, 13)
    )
    with CaptureQueriesContext(connection) as captured:
        counts = selectors.feedback_counts(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    assert len(captured.captured_queries) == 1
    assert counts["helped"]["yes"] == 78
