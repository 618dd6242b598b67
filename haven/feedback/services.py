"""Storing a visitor's feedback (see haven.feedback.models: never linked to a chat)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.chat.services import MessageInvalid, Refused
from haven.core import abuse, clock
from haven.feedback import questions
from haven.feedback.models import FeedbackTally


@transaction.atomic
def feedback_give(*, helped: str, come_back: str, source: str | None = None) -> None:
    """Count the answers (either may be left out, not both) in this month's tallies. A few
    per source an hour, so that nobody can fill the figures from one place."""
    if not questions.is_answer("helped", helped) or not questions.is_answer("come_back", come_back):
        raise MessageInvalid(_("Something went wrong. Try again."), code="bad_field")
    if not helped and not come_back:
        raise MessageInvalid(_("Choose an answer first, or just leave it."), code="empty")
    if source is not None:
        given = abuse.hit("feedback", source, window=3600)
        if given > settings.HAVEN_FEEDBACK_PER_SOURCE_PER_HOUR:
            raise Refused(_("Thank you. We already have your answers."))
    month = timezone.localtime(clock.now()).date().replace(day=1)
    for question, answer in (("helped", helped), ("come_back", come_back)):
        if not answer:
            continue
        tally, _created = FeedbackTally.objects.get_or_create(
            month=month, question=question, answer=answer
        )
        # Added in the database, so two answers at the same moment both count.
        FeedbackTally.objects.filter(pk=tally.pk).update(count=F("count") + 1)
