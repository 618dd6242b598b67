"""Messages left for later over HTTP: the visitor page's three calls through the whole ASGI
stack (address stripping, headers), and the counsellors' list and answer page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.test import Client

from haven.asgi import application
from haven.conftest import sign_in_fully
from haven.letters import services
from haven.letters.models import Letter

TEXT = "Synthetic test message for later."


async def call(
    path: str, body: Any, *, content_type: bytes = b"application/json"
) -> tuple[int, dict[str, Any], dict[bytes, bytes]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    communicator = HttpCommunicator(
        application,
        "POST",
        path,
        body=raw,
        headers=[(b"host", b"127.0.0.1"), (b"content-type", content_type)],
    )
    communicator.scope["client"] = ("203.0.113.9", 50000)
    response = await communicator.get_response(timeout=10)
    headers = {name.lower(): value for name, value in response["headers"]}
    return response["status"], json.loads(response["body"]), headers


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_leave_read_and_add_through_the_asgi_stack(counsellor) -> None:  # type: ignore[no-untyped-def]
    """Leave: the code once. Read with the code: the entries. Add: one more. Nothing is
    cached, no cookie is set."""
    status, left, headers = await call("/letter/leave", {"text": TEXT})
    assert status == 200
    assert headers[b"cache-control"].startswith(b"no-store")
    assert b"set-cookie" not in headers
    assert [e["text"] for e in left["entries"]] == [TEXT] and left["awaiting_reply"]
    letter = await database_sync_to_async(Letter.objects.get)()
    await database_sync_to_async(services.letter_reply)(
        actor=counsellor, letter_id=letter.id, text="Fijn dat je schreef."
    )
    status, thread, _headers = await call("/letter/read", {"code": left["code"]})
    assert status == 200
    assert [(e["sender"], e["text"]) for e in thread["entries"]] == [
        ("visitor", TEXT),
        ("counsellor", "Fijn dat je schreef."),
    ]
    assert thread["awaiting_reply"] is False
    status, thread, _headers = await call(
        "/en/letter/add", {"code": left["code"], "text": "Nog iets."}
    )
    assert status == 200 and len(thread["entries"]) == 3 and thread["awaiting_reply"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_refusals_are_calm_json_in_the_pages_language() -> None:
    """A wrong code: 400 with words for the visitor (English under /en/). A form post or
    broken JSON: 400, nothing stored."""
    status, refused, _headers = await call("/en/letter/read", {"code": "aap-beer-kat-vis"})
    assert status == 400 and refused["error"] == "code_refused"
    assert refused["message"].startswith("We cannot find a message with this code")
    status, refused, _headers = await call("/letter/read", {"code": "aap-beer-kat-vis"})
    assert refused["message"].startswith("We kunnen geen bericht vinden")
    status, _body, _headers = await call(
        "/letter/leave", b"text=hello", content_type=b"application/x-www-form-urlencoded"
    )
    assert status == 400
    status, _body, _headers = await call("/letter/leave", b"{not json")
    assert status == 400
    status, refused, _headers = await call("/letter/leave", {"text": "   "})
    assert (status, refused["error"]) == (400, "empty")
    assert await database_sync_to_async(Letter.objects.count)() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_guessing_codes_from_one_address_is_slowed_down(settings) -> None:  # type: ignore[no-untyped-def]
    """The tries are counted per hashed source, which the stack derives from the address
    (never stored): after the limit even a right code is refused from there."""
    settings.HAVEN_RETURN_CODE_ATTEMPTS_PER_SOURCE = 2
    _status, left, _headers = await call("/letter/leave", {"text": TEXT})
    for _ in range(2):
        await call("/letter/read", {"code": "aap-beer-kat-vis"})
    status, _refused, _headers = await call("/letter/read", {"code": left["code"]})
    assert status == 400


@pytest.mark.django_db
def test_counsellors_see_the_waiting_letters_and_answer_them(counsellor) -> None:  # type: ignore[no-untyped-def]
    """The list, the letter with its words, the answer; then it is under "answered"."""
    left = services.letter_leave(text=TEXT, language="nl")
    client = Client()
    sign_in_fully(client, counsellor)
    page = client.get("/en/console/letters/").content.decode()
    assert f'data-letter="{left.letter.id}"' in page
    assert TEXT not in page  # the list shows no words: opening one is audited
    detail = f"/en/console/letters/{left.letter.id}/"
    page = client.get(detail).content.decode()
    assert TEXT in page
    response = client.post(detail, {"text": "Fijn dat je schreef.", "seen_seq": "1"})
    assert response.status_code == 302
    page = client.get("/en/console/letters/").content.decode()
    assert "No message is waiting for an answer." in page
    assert f"/en/console/letters/{left.letter.id}/" in page
    assert client.get("/en/console/letters/count/").json() == {"awaiting": 0}


@pytest.mark.django_db
def test_an_empty_answer_is_refused_on_the_page(counsellor) -> None:  # type: ignore[no-untyped-def]
    left = services.letter_leave(text=TEXT, language="nl")
    client = Client()
    sign_in_fully(client, counsellor)
    response = client.post(f"/en/console/letters/{left.letter.id}/", {"text": " ", "seen_seq": "1"})
    assert response.status_code == 200
    assert 'id="reply-error"' in response.content.decode()
    assert Letter.objects.get().awaiting_reply


@pytest.mark.django_db
def test_an_answer_sent_twice_is_stored_once(counsellor) -> None:  # type: ignore[no-untyped-def]
    """A double click sends the same form twice: the second is refused with a word why,
    and the page shows the letter as it is now, language included."""
    left = services.letter_leave(text=TEXT, language="en")
    client = Client()
    sign_in_fully(client, counsellor)
    detail = f"/en/console/letters/{left.letter.id}/"
    assert "Written in: English." in client.get(detail).content.decode()
    form = {"text": "Thank you for writing.", "seen_seq": "1"}
    assert client.post(detail, form).status_code == 302
    page = client.post(detail, form)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Something was written in this message since you opened it." in html
    assert 'aria-describedby="id_text_helptext reply-error"' in html
    assert Letter.objects.get().last_seq == 2
