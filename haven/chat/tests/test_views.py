"""The pages: what the visitor's browser receives, and who gets into the console."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from haven.conftest import sign_in_fully

pytestmark = pytest.mark.django_db


def test_visitor_page_sets_no_cookie_and_has_a_neutral_title(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    """No cookie at all on the visitor page; the tab title is the neutral one."""
    settings.HAVEN_NEUTRAL_TITLE = "Chat"
    response = client.get("/")
    assert response.status_code == 200
    assert response.cookies == {}
    assert "<title>Chat</title>" in response.content.decode()


def test_visitor_page_loads_nothing_from_another_host(client: Client) -> None:
    """Everything the page loads by itself (scripts, styles, icons, images) is on Haven;
    CSP says 'self' only. (A link a person may click, to a help site, is not a load.)"""
    html = client.get("/").content.decode()
    loaded = re.findall(r'src="([^"]+)"', html) + re.findall(r'<link[^>]*href="([^"]+)"', html)
    assert loaded
    for url in loaded:
        assert not re.match(r"^(https?:)?//", url), url
    csp = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_pages_are_never_cached_and_send_no_referrer(client: Client) -> None:
    response = client.get("/")
    assert response["Cache-Control"] == "no-store, max-age=0"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"


def test_dutch_by_default_english_under_en(client: Client) -> None:
    """/ is Dutch whatever the browser asks; /en/ is English. No language cookie."""
    dutch = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    english = client.get("/en/")
    assert '<html lang="nl">' in dutch.content.decode()
    assert '<html lang="en">' in english.content.decode()
    assert "Start an anonymous chat" in english.content.decode()
    assert "Start an anonymous chat" not in dutch.content.decode()
    assert "112" in dutch.content.decode() and "112" in english.content.decode()
    assert english.cookies == {}


def test_visitor_page_has_quick_exit_and_configured_exit_url(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HAVEN_QUICK_EXIT_URL = "https://weather.example/"
    html = client.get("/").content.decode()
    assert 'id="quick-exit"' in html
    assert 'aria-keyshortcuts="Escape"' in html
    assert "https://weather.example/" in html


def test_console_needs_a_login(client: Client) -> None:
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_console_for_a_counsellor(client: Client, counsellor) -> None:  # type: ignore[no-untyped-def]
    sign_in_fully(client, counsellor)
    response = client.get("/console/")
    assert response.status_code == 200
    assert 'id="queue"' in response.content.decode()


def test_console_refuses_a_user_who_is_not_a_counsellor(client: Client, make_staff) -> None:  # type: ignore[no-untyped-def]
    """An administrator without a counselling role gets a calm refusal, not the console."""
    administrator = make_staff("ada", "administrator")
    sign_in_fully(client, administrator)
    assert client.get("/console/").status_code == 403


def test_console_sends_an_analyst_to_the_figures(client: Client, make_staff) -> None:  # type: ignore[no-untyped-def]
    """An analyst has no console; their work starts on the figures page."""
    analyst = make_staff("ada", "analyst")
    sign_in_fully(client, analyst)
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/console/reports/"


def test_login_with_the_form(client: Client, counsellor) -> None:  # type: ignore[no-untyped-def]
    """The console login form signs a counsellor in; a wrong password shows a calm error."""
    client = Client(enforce_csrf_checks=True)
    page = client.get("/console/login/")
    token = page.cookies["csrftoken"].value
    wrong = client.post(
        "/console/login/",
        {"username": "anna", "password": "wrong", "csrfmiddlewaretoken": token},
    )
    assert wrong.status_code == 200
    assert 'role="alert"' in wrong.content.decode()
    right = client.post(
        "/console/login/",
        {"username": "anna", "password": "a long test password 42", "csrfmiddlewaretoken": token},
    )
    assert right.status_code == 302
    # The second step comes first: a new account is sent to set up its authenticator.
    assert client.get("/console/")["Location"].startswith("/console/two-factor/setup/")


def test_healthz(client: Client) -> None:
    """Ready: the database and the channel layer answer."""
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


def test_healthz_names_the_part_that_does_not_answer(client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """503 and which part, when the channel layer (Redis, in production) does not answer;
    the liveness check still says the worker runs."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()

    async def away() -> None:
        raise ConnectionError("no Redis")

    monkeypatch.setattr(layer, "ping", away)
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (503, b"channel_layer: unreachable\n")
    assert client.get("/livez").content == b"ok"


def test_healthz_says_unhealthy_while_the_database_is_away(client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """503 naming the database when a query cannot run."""
    from django.db import OperationalError

    from haven.core import health

    def away() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_select_one", away)
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (503, b"database: unreachable\n")


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/metrics"])
def test_probes_answer_on_a_workers_own_address(client: Client, settings, path) -> None:  # type: ignore[no-untyped-def]
    """As production is set up (https redirect, only the public name allowed), the probes
    still answer the proxy, systemd and monitoring on a worker's internal address in plain
    HTTP, where every page is refused or redirected; they set no cookie and are not cached."""
    settings.ALLOWED_HOSTS = ["chat.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(path, HTTP_HOST="10.0.0.11:8000")
    assert response.status_code == 200, response
    assert response.cookies == {}
    assert response["Cache-Control"] == "no-store, max-age=0"
    assert client.get("/", HTTP_HOST="10.0.0.11:8000").status_code == 400
    assert client.get("/", HTTP_HOST="chat.example.org").status_code == 301
    assert client.get(path + "/", HTTP_HOST="10.0.0.11:8000").status_code == 400
    assert client.post(path, HTTP_HOST="10.0.0.11:8000").status_code in {405, 403}


def test_staff_pages_send_a_same_origin_referrer(client: Client) -> None:
    """Under no-referrer a browser posts with ``Origin: null`` and the login's CSRF check fails."""
    for path in ("/console/login/", "/en/console/login/", "/admin/login/"):
        assert client.get(path)["Referrer-Policy"] == "same-origin", path
    assert client.get("/")["Referrer-Policy"] == "no-referrer"
    assert client.get("/en/")["Referrer-Policy"] == "no-referrer"
