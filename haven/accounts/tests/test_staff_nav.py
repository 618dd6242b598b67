"""The staff header: every staff page shows the links its reader may follow, and no other."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from haven.conftest import sign_in_fully

pytestmark = pytest.mark.django_db

NAV = re.compile(r'id="nav-([a-z]+)"')


def links(make_staff, role: str, *paths: str) -> list[set[str]]:  # type: ignore[no-untyped-def]
    """The header's links on each page, for a new staff member with ``role``."""
    client = Client()
    sign_in_fully(client, make_staff(f"someone-{role}", role))
    found = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        found.append(set(NAV.findall(response.content.decode())))
    return found


def test_an_analyst_sees_figures_estimates_and_export(make_staff) -> None:  # type: ignore[no-untyped-def]
    """On the figures, the estimates and the export page alike."""
    pages = ("/en/console/reports/", "/en/console/estimates/", "/en/console/cases/export/")
    assert links(make_staff, "analyst", *pages) == [{"figures", "estimates", "export"}] * 3


def test_a_counsellor_sees_coding_and_messages_left(make_staff) -> None:  # type: ignore[no-untyped-def]
    pages = ("/en/console/cases/", "/en/console/letters/")
    assert links(make_staff, "counsellor", *pages) == [{"coding", "letters"}] * 2


def test_a_supervisor_also_sees_export_and_import(make_staff) -> None:  # type: ignore[no-untyped-def]
    expected = [{"coding", "letters", "canned", "referrals", "danger", "team", "export", "import"}]
    assert links(make_staff, "supervisor", "/en/console/cases/") == expected


def test_a_visitor_page_carries_no_staff_links() -> None:
    """The context processor gives nothing to someone without an account."""
    html = Client().get("/").content.decode()
    assert NAV.findall(html) == []
    assert "/console/" not in html
