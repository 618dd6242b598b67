"""Storing feedback and counting it: never linked to a chat."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from channels.db import database_sync_to_async
from django.test.utils import CaptureQueriesContext

from haven.chat.services import MessageInvalid, Refused
from haven.feedback import selectors, services
from haven.feedback.models import Feedback

pytestmark = pytest.mark.django_db


def test_an_answer_keeps_only_the_month_and_no_link_to_any_chat(clock) -> None:  # type: ignore[no-untyped-def]
    """The row holds the two answers and the first of the month: no time, no conversation,
    and a random key, so the order of rows says nothing either."""
    given = services.feedback_give(helped="yes", come_back="maybe")
    assert given.month == dt.date(2026, 3, 1)
    fields = {field.name for field in Feedback._meta.get_fields()}
    assert fields == {"id", "month", "helped", "come_back"}
    assert Feedback._meta.pk is not None and Feedback._meta.pk.get_internal_type() == "UUIDField"


def test_one_question_may_be_left_out_but_not_both_and_only_offered_answers(clock) -> None:  # type: ignore[no-untyped-def]
    services.feedback_give(helped="", come_back="no")
    with pytest.raises(MessageInvalid):
        services.feedback_give(helped="", come_back="")
    with pytest.raises(MessageInvalid):
        services.feedback_give(helped="maybe", come_back="")
    assert Feedback.objects.count() == 1


def test_one_source_cannot_fill_the_figures(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HAVEN_FEEDBACK_PER_SOURCE_PER_HOUR = 2
    for _ in range(2):
        services.feedback_give(helped="yes", come_back="yes", source="one")
    with pytest.raises(Refused):
        services.feedback_give(helped="yes", come_back="yes", source="one")
    services.feedback_give(helped="no", come_back="no", source="another")
    assert Feedback.objects.count() == 3


def test_the_counts_of_a_period_in_one_query(clock, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    """By month: March counts in 2026, a February answer of another year does not."""
    services.feedback_give(helped="yes", come_back="yes")
    services.feedback_give(helped="yes", come_back="")
    services.feedback_give(helped="no", come_back="maybe")
    Feedback.objects.create(month=dt.date(2025, 2, 1), helped="no", come_back="no")
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
    assert await database_sync_to_async(Feedback.objects.count)() == 1


def test_queries_stay_flat(clock) -> None:  # type: ignore[no-untyped-def]
    """Counting a year of many answers is still one grouped query."""
    from django.db import connection

    Feedback.objects.bulk_create(
        Feedback(month=dt.date(2026, m, 1), helped="yes", come_back="no") for m in range(1, 13)
    )
    with CaptureQueriesContext(connection) as captured:
        counts = selectors.feedback_counts(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    assert len(captured.captured_queries) == 1
    assert counts["helped"]["yes"] == 12
