"""The referral directory: supervisors manage it; every console can search it."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from django.test import Client

from haven.audit.models import AuditEntry
from haven.conftest import sign_in_fully
from haven.referrals.models import Referral

pytestmark = pytest.mark.django_db

FORM = {
    "organisation": "Synthetische Hulplijn",
    "phone": "0800 000 0099",
    "website": "https://hulp.example.org/",
    "hours": "elke dag 9:00-21:00",
    "helps_with": "praten, wonen, school",
    "region": "Nederland",
    "audience": "minors",
}


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    sign_in_fully(client, user)
    return client


def test_a_supervisor_adds_changes_and_deletes_an_entry(make_staff, clock) -> None:  # type: ignore[no-untyped-def]
    """Each step audited with the organisation's name; a wrong web address is refused on
    the form."""
    client = signed_in(make_staff("sem", "supervisor"))
    assert client.post("/en/console/referrals/new/", FORM).status_code == 302
    entry = Referral.objects.get()
    assert (entry.audience, entry.updated_by is not None) == ("minors", True)
    changed = {**FORM, "hours": "werkdagen"}
    assert client.post(f"/en/console/referrals/{entry.pk}/", changed).status_code == 302
    assert Referral.objects.get().hours == "werkdagen"
    refused = client.post("/en/console/referrals/new/", {**FORM, "website": "not a web address"})
    assert refused.status_code == 200 and Referral.objects.count() == 1
    listing = client.get("/en/console/referrals/").content.decode()
    assert "Synthetische Hulplijn" in listing
    assert client.post(f"/en/console/referrals/{entry.pk}/delete/").status_code == 302
    assert not Referral.objects.exists()
    actions = list(
        AuditEntry.objects.filter(action__startswith="referral.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["referral.create", "referral.change", "referral.delete"]


def test_counsellors_search_them_in_the_console_but_cannot_change_them(make_staff, clock) -> None:  # type: ignore[no-untyped-def]
    """Missing and forbidden answer alike (404); the console's page carries every entry
    for its search."""
    from haven.referrals import services

    supervisor = make_staff("sem", "supervisor")
    saved = services.referral_save(actor=supervisor, referral=Referral(**FORM))
    counsellor = signed_in(make_staff("cas", "counsellor"))
    for url in ("/en/console/referrals/", f"/en/console/referrals/{saved.pk}/"):
        assert counsellor.get(url).status_code == 404
    assert counsellor.post(f"/en/console/referrals/{saved.pk}/delete/").status_code == 404
    assert counsellor.get("/en/console/referrals/999999/").status_code == 404
    page = counsellor.get("/en/console/").content.decode()
    config = json.loads(
        re.search(r'<script id="haven-config" type="application/json">(.*?)</script>', page, re.S)[
            1
        ]  # type: ignore[index]
    )
    (entry,) = config["referrals"]
    assert entry["organisation"] == "Synthetische Hulplijn"
    assert entry["audience_label"] == "young people under 18"


def test_the_demo_seeds_invented_entries_only_and_once(settings) -> None:  # type: ignore[no-untyped-def]
    """Every demo entry says it is an example, with example.org addresses; the command
    adds none where the team has entries."""
    settings.PRODUCTION = False
    call_command("democounsellor", stdout=open("/dev/null", "w"))  # noqa: SIM115
    entries = list(Referral.objects.all())
    assert len(entries) >= 3
    for entry in entries:
        assert "(voorbeeld)" in entry.organisation
        assert entry.website.startswith("https://") and ".example.org/" in entry.website
    call_command("democounsellor", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Referral.objects.count() == len(entries)
