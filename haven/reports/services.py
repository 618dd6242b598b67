"""Writes for the reports domain: loading invented demonstration data."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from itertools import islice

from django.db import transaction

from haven.cases import codebook
from haven.cases.models import Case, CaseContact
from haven.core import clock
from haven.reports.demo import DemoCase


class RealDataPresent(Exception):
    """Invented cases would mix into real figures: refused."""


@transaction.atomic
def demo_data_load(*, cases: Iterable[DemoCase], batch_size: int = 5000) -> int:
    """Store invented cases (marked ``synthetic``), replacing earlier invented ones.

    Refused when the database holds any real coded case: invented numbers must never be
    counted in real figures. Returns the number of cases stored.
    """
    if Case.objects.filter(synthetic=False).exists():
        raise RealDataPresent(
            "This database holds real cases. Demo data is only loaded into a database without them."
        )
    Case.objects.filter(synthetic=True).delete()
    now = clock.now()
    stored = 0
    iterator = iter(cases)
    while batch := list(islice(iterator, batch_size)):
        rows: list[Case] = []
        contacts: list[CaseContact] = []
        for demo in batch:
            first = min(demo.contacts)
            coded = dt.datetime.combine(first, dt.time(12), tzinfo=dt.UTC)
            case = Case(
                id=uuid.uuid4(),
                created_at=min(coded, now),
                codebook_version=codebook.VERSION,
                coded_at=min(coded, now),
                reviewed_at=min(coded, now),
                synthetic=True,
            )
            case.set_answers(demo.record)
            rows.append(case)
            contacts.extend(CaseContact(case=case, on=day) for day in demo.contacts)
        Case.objects.bulk_create(rows)
        CaseContact.objects.bulk_create(contacts, batch_size=batch_size)
        stored += len(rows)
    return stored
