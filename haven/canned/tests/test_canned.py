"""Canned responses: supervisors manage them; counsellors get them in the console."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from haven.audit.models import AuditEntry
from haven.canned.models import CannedResponse
from haven.conftest import sign_in_fully

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    sign_in_fully(client, user)
    return client


def test_a_supervisor_adds_changes_and_deletes_a_response(make_staff, clock) -> None:  # type: ignore[no-untyped-def]
    """Each step audited with the shortcut, never the text."""
    client = signed_in(make_staff("sem", "supervisor"))
    form = {
        "language": "nl",
        "shortcut": "welkom",
        "title": "Welkom",
        "text": "Fijn dat je er bent.",
    }
    assert client.post("/en/console/canned/new/", form).status_code == 302
    response = CannedResponse.objects.get()
    assert response.updated_by is not None
    changed = {**form, "text": "Fijn dat je schrijft."}
    assert client.post(f"/en/console/canned/{response.pk}/", changed).status_code == 302
    assert CannedResponse.objects.get().text == "Fijn dat je schrijft."
    # The same shortcut twice in one language is refused on the form.
    page = client.post("/en/console/canned/new/", form)
    assert page.status_code == 200 and CannedResponse.objects.count() == 1
    assert client.post(f"/en/console/canned/{response.pk}/delete/").status_code == 302
    assert not CannedResponse.objects.exists()
    actions = list(
        AuditEntry.objects.filter(action__startswith="canned.")
        .order_by("id")
        .values_list("action", "detail")
    )
    assert [a for a, _ in actions] == ["canned.create", "canned.change", "canned.delete"]
    assert "Fijn" not in str(actions)


def test_counsellors_use_them_but_cannot_change_them(make_staff, clock) -> None:  # type: ignore[no-untyped-def]
    """Missing and forbidden answer alike (404); the console carries every response."""
    from haven.canned import services

    supervisor = make_staff("sem", "supervisor")
    saved = services.canned_save(
        actor=supervisor,
        response=CannedResponse(language="en", shortcut="hello", title="Hello", text="Hi there."),
    )
    client = signed_in(make_staff("cora", "counsellor"))
    for path in (
        "/en/console/canned/",
        "/en/console/canned/new/",
        f"/en/console/canned/{saved.pk}/",
    ):
        assert client.get(path).status_code == 404
    assert client.post(f"/en/console/canned/{saved.pk}/delete/").status_code == 404
    page = client.get("/en/console/").content.decode()
    config = json.loads(
        re.search(r'id="haven-config" type="application/json">(.*?)</script>', page).group(1)
    )
    assert config["canned"] == [
        {"shortcut": "hello", "language": "en", "title": "Hello", "text": "Hi there."}
    ]
