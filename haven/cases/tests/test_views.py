"""The coding pages: who may open them, coding and review through the forms, drafts, holds,
the audited transcript read, and import and export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from haven.audit.models import AuditEntry
from haven.cases import codebook, exchange, services
from haven.cases.models import Case, CodingDraft
from haven.chat import services as chat_services
from haven.chat.models import Conversation, Message, TranscriptHold
from haven.conftest import sign_in_fully

pytestmark = pytest.mark.django_db

# The form as a counsellor leaves it for a typical case (synthetic): a girl of 14,
# sexually exploited by a "loverboy" met on social media.
FORM: dict[str, Any] = {
    "contact_type": "self",
    "age": "14",
    "age_band": "unknown",
    "gender": "girl",
    "exploitation": ["sexual"],
    "perpetrators": ["partner"],
    "perpetrator_count": "",
    "still_exploited": "yes",
    "duration": "unknown",
    "first_disclosure": "unknown",
    "recruitment": "social_media",
    "platform": "snapchat",
    "sextortion": "unknown",
    "referrals": [],
    "urgency": "urgent",
}


def chat(
    counsellor: Any, *, end: bool = True, text: str = "a synthetic test message"
) -> Conversation:
    """A conversation a visitor started, ``counsellor`` accepted and (by default) ended."""
    conversation, _token = chat_services.conversation_start(language="nl")
    chat_services.message_send(
        conversation_id=conversation.id,
        sender=Message.Sender.VISITOR,
        text=text,
        client_id=uuid.uuid4().hex,
    )
    chat_services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    if end:
        chat_services.conversation_end(conversation_id=conversation.id, party="visitor")
    conversation.refresh_from_db()
    return conversation


def signed_in(user: Any) -> Client:
    client = Client()
    sign_in_fully(client, user)
    return client


def coding_url(conversation: Conversation, lang: str = "en") -> str:
    return f"/{lang}/console/cases/conversation/{conversation.id}/"


def code(actor: Any, conversation: Conversation, **changes: Any) -> Case:
    answers = {**FORM, "age": 14, **changes}
    return services.conversation_code(actor=actor, conversation_id=conversation.id, answers=answers)


@pytest.fixture
def people(make_staff) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "own": make_staff("cora", "counsellor"),
        "other": make_staff("otto", "counsellor"),
        "supervisor": make_staff("sem", "supervisor"),
        "analyst": make_staff("ana", "analyst"),
        "administrator": make_staff("adam", "administrator"),
    }


@pytest.fixture
def conversation(people, clock) -> Conversation:  # type: ignore[no-untyped-def]
    return chat(people["own"])


# --- who may open what ---------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login(conversation: Conversation) -> None:
    """Every cases page asks an anonymous browser to sign in first."""
    client = Client()
    case = code(conversation.counsellor, conversation)
    for path in (
        "/console/cases/",
        "/console/cases/count/",
        coding_url(conversation, "nl").removeprefix("/nl"),
        f"/console/cases/{case.id}/",
        "/console/cases/export/",
        "/console/cases/import/",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/console/login/"), path


@pytest.mark.parametrize(
    ("who", "expected"),
    [("own", 200), ("supervisor", 200), ("other", 404), ("analyst", 404), ("administrator", 404)],
)
def test_coding_page_only_for_its_counsellor_and_supervisors(
    people: dict[str, Any], conversation: Conversation, who: str, expected: int
) -> None:
    """The conversation's counsellor and supervisors open the coding page; for anyone else
    it does not exist (404, as for a conversation that does not exist)."""
    client = signed_in(people[who])
    assert client.get(coding_url(conversation)).status_code == expected
    assert client.get(f"/en/console/cases/conversation/{uuid.uuid4()}/").status_code == 404
    posted = client.post(coding_url(conversation), {**FORM, "action": "finish"})
    assert posted.status_code == (302 if expected == 200 else 404)


@pytest.mark.parametrize(
    ("who", "overview", "export", "import_"),
    [
        ("own", 200, 404, 404),
        ("other", 200, 404, 404),
        ("supervisor", 200, 200, 200),
        ("analyst", 404, 200, 404),
        ("administrator", 404, 404, 404),
    ],
)
def test_overview_export_and_import_by_role(
    people: dict[str, Any], who: str, overview: int, export: int, import_: int
) -> None:
    """Counsellors and supervisors see the overview; supervisors and analysts export;
    only supervisors import."""
    client = signed_in(people[who])
    assert client.get("/en/console/cases/").status_code == overview
    assert client.get("/en/console/cases/count/").status_code == overview
    assert client.get("/en/console/cases/export/").status_code == export
    assert client.get("/en/console/cases/import/").status_code == import_


@pytest.mark.parametrize(
    ("who", "expected", "editable"),
    [
        ("own", 200, False),
        ("supervisor", 200, True),
        ("other", 404, False),
        ("analyst", 404, False),
        ("administrator", 404, False),
    ],
)
def test_case_page_editable_for_supervisors_read_only_for_its_counsellor(
    people: dict[str, Any], conversation: Conversation, who: str, expected: int, editable: bool
) -> None:
    case = code(people["own"], conversation)
    client = signed_in(people[who])
    response = client.get(f"/en/console/cases/{case.id}/")
    assert response.status_code == expected
    if expected == 200:
        html = response.content.decode()
        assert ('id="save-correction"' in html) is editable
        assert case.reference in html
    posted = client.post(f"/en/console/cases/{case.id}/", {**FORM, "urgency": "emergency"})
    assert posted.status_code == (302 if editable else 404)
    case.refresh_from_db()
    assert case.urgency == ("emergency" if editable else "urgent")


def test_analyst_is_shown_the_way_to_the_export(people: dict[str, Any]) -> None:
    """An analyst has no console: it sends them to the figures, whose page links to the
    export, which opens."""
    client = signed_in(people["analyst"])
    response = client.get("/en/console/")
    assert response.status_code == 302
    assert response["Location"] == "/en/console/reports/"
    assert 'href="/en/console/cases/export/"' in client.get("/en/console/reports/").content.decode()
    assert client.get("/en/console/cases/export/").status_code == 200


# --- the overview --------------------------------------------------------------------------


def test_still_to_code_lists_own_ended_conversations_oldest_first(
    people: dict[str, Any], clock
) -> None:  # type: ignore[no-untyped-def]
    """A counsellor sees their own ended, uncoded conversations (oldest first) with when
    they ended and who counselled; not a colleague's, and not one still running. A
    supervisor sees everyone's."""
    older = chat(people["own"])
    clock.advance(minutes=30)
    newer = chat(people["own"])
    # A minute apart: the order of conversations that ended at the same moment is not
    # part of the promise (PostgreSQL and SQLite may differ there).
    clock.advance(minutes=1)
    colleagues = chat(people["other"])
    running = chat(people["own"], end=False)
    html = signed_in(people["own"]).get("/en/console/cases/").content.decode()
    shown = re.findall(r'data-conversation="([0-9a-f-]+)"', html)
    assert shown == [str(older.id), str(newer.id)]
    assert str(running.id) not in html and str(colleagues.id) not in html
    assert "cora" in html
    supervisor_html = signed_in(people["supervisor"]).get("/en/console/cases/").content.decode()
    assert re.findall(r'data-conversation="([0-9a-f-]+)"', supervisor_html) == [
        str(older.id),
        str(newer.id),
        str(colleagues.id),
    ]
    count = signed_in(people["own"]).get("/en/console/cases/count/").json()
    assert count == {"still_to_code": 2}


def test_the_console_links_to_coding(people: dict[str, Any]) -> None:
    """The console's header links to the coding overview (with the count filled in by the
    script), its conversation pane has a "Code" link opening a new tab, and the script
    has the words for a returning visitor."""
    html = signed_in(people["own"]).get("/en/console/").content.decode()
    assert 'id="coding-link"' in html and 'href="/en/console/cases/"' in html
    assert 'data-count-url="/en/console/cases/count/"' in html
    code_link = re.search(r'<a id="code-current"[^>]*>', html)
    assert code_link is not None
    assert 'target="_blank"' in code_link.group(0) and 'rel="noopener"' in code_link.group(0)
    config = json.loads(
        re.search(
            r'<script id="haven-config" type="application/json">(.*?)</script>', html, re.S
        ).group(1)  # type: ignore[union-attr]
    )
    assert "coding page" in config["text"]["returned"]


# --- coding --------------------------------------------------------------------------------


def test_finishing_the_form_codes_the_case_and_empties_still_to_code(
    people: dict[str, Any], conversation: Conversation
) -> None:
    """Posting the form codes the conversation (answers normalised by the codebook) and
    returns to the overview, which confirms it and no longer lists the conversation."""
    client = signed_in(people["own"])
    form_html = client.get(coding_url(conversation)).content.decode()
    assert 'id="finish-coding"' in form_html and 'id="save-draft"' in form_html
    response = client.post(coding_url(conversation), {**FORM, "action": "finish"}, follow=True)
    assert response.redirect_chain[-1][0] == "/en/console/cases/"
    conversation.refresh_from_db()
    case = conversation.case
    assert case is not None and case.is_coded
    assert case.answers()["age_band"] == "12_15"
    assert case.answers()["perpetrators"] == ("partner",)
    html = response.content.decode()
    assert case.reference in html
    assert str(conversation.id) not in html
    assert 'id="nothing-to-code"' in html


def test_the_form_starts_from_the_defaults(people: dict[str, Any], conversation) -> None:  # type: ignore[no-untyped-def]
    """A fresh form has every codebook question, with the codebook's defaults chosen, except
    the contact type and the urgency: nothing is ticked there, the counsellor chooses (a
    default would count a hurried prank chat as a victim). Those two come first, and the
    finish button is above the questions too."""
    html = signed_in(people["own"]).get(coding_url(conversation)).content.decode()
    for question in codebook.QUESTIONS:
        assert f'id="q-{question.name}"' in html
    assert checked(html, "contact_type") == []
    assert checked(html, "urgency") == []
    assert checked(html, "gender") == ["unknown"]
    assert checked(html, "platform") == [""]
    assert checked(html, "perpetrators") == []
    order = [html.index(f'id="q-{name}"') for name in ("contact_type", "urgency", "age")]
    assert order == sorted(order)
    assert html.index('id="finish-coding-top"') < html.index('id="q-contact_type"')


def test_finishing_without_a_contact_type_or_urgency_is_refused(
    people: dict[str, Any], conversation: Conversation
) -> None:
    """Nothing is counted until the counsellor chooses; a contact without data may leave
    the urgency empty (it is not urgent), a victim's contact may not."""
    client = signed_in(people["own"])
    blank = {**FORM, "contact_type": "", "urgency": "", "action": "finish"}
    response = client.post(coding_url(conversation), blank)
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.case is None or not conversation.case.is_coded
    victim = {**FORM, "urgency": "", "action": "finish"}
    assert client.post(coding_url(conversation), victim).status_code == 200
    # What the fresh form posts when only the contact type was chosen.
    prank = {
        name: value
        for name, value in codebook.defaults().items()
        if value not in (None, ()) and name != "urgency"
    } | {"contact_type": "test", "action": "finish"}
    response = client.post(coding_url(conversation), prank)
    assert response.status_code == 302, response.content.decode()[:2000]
    conversation.refresh_from_db()
    assert conversation.case.answers()["urgency"] == "not_urgent"
    assert conversation.case.answers()["contact_type"] == "test"


def test_invalid_answers_are_explained_next_to_each_field(
    people: dict[str, Any], conversation: Conversation
) -> None:
    """A platform without social-media recruitment and a number of perpetrators that is no
    number: nothing is coded, an error summary (role=alert) links to each field, the
    message stands next to the field, and what was chosen is kept."""
    client = signed_in(people["own"])
    response = client.post(
        coding_url(conversation),
        {**FORM, "recruitment": "in_person", "perpetrator_count": "two", "action": "finish"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    summary = re.search(
        r'<div class="error-summary" id="error-summary" role="alert".*?</div>', html, re.S
    )
    assert summary is not None
    platform_index = codebook.BY_NAME["platform"].codes.index("snapchat")
    assert f'href="#id_platform_{platform_index}"' in summary.group(0)
    assert 'href="#id_perpetrator_count"' in summary.group(0)
    platform_error = re.search(r'<p class="field-error" id="platform-error">(.*?)</p>', html, re.S)
    assert platform_error is not None
    assert "only given when recruited through social media" in platform_error.group(1)
    assert 'id="perpetrator_count-error"' in html
    assert "Enter a whole number" in html
    assert checked(html, "recruitment") == ["in_person"]
    assert checked(html, "platform") == ["snapchat"]
    conversation.refresh_from_db()
    assert conversation.case is None and conversation.coded_at is None


def test_errors_are_translated_into_dutch(people: dict[str, Any], conversation) -> None:  # type: ignore[no-untyped-def]
    """The page without /en/ is Dutch: the problem message goes through translation (it
    is at least shown, and names questions by their labels, not their codes)."""
    client = signed_in(people["own"])
    response = client.post(
        coding_url(conversation, "nl").removeprefix("/nl"),
        {**FORM, "contact_type": "test", "action": "finish"},
    )
    html = response.content.decode()
    assert '<html lang="nl">' in html
    error = re.search(r'<p class="field-error" id="contact_type-error">(.*?)</p>', html, re.S)
    assert error is not None
    assert "age_band" not in error.group(1) and "perpetrators" not in error.group(1)


def test_draft_autosave_keeps_the_form(people: dict[str, Any], conversation) -> None:  # type: ignore[no-untyped-def]
    """The script's autosave keeps the form as it is (even unfinished) and says when; the
    page shows the draft the next time, and coding deletes it."""
    client = signed_in(people["own"])
    draft = {**FORM, "gender": "boy", "referrals": ["police"], "age": ""}
    response = client.post(
        f"/en/console/cases/conversation/{conversation.id}/draft/",
        draft,
        HTTP_X_CSRFTOKEN="ignored-by-the-test-client",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["text"].startswith("Draft saved at ")
    stored = CodingDraft.objects.get(conversation=conversation)
    assert stored.data["gender"] == "boy"
    html = client.get(coding_url(conversation)).content.decode()
    assert checked(html, "gender") == ["boy"]
    assert checked(html, "referrals") == ["police"]
    client.post(coding_url(conversation), {**FORM, "action": "finish"})
    assert not CodingDraft.objects.filter(conversation=conversation).exists()


def test_save_draft_button_works_without_script(people: dict[str, Any], conversation) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(people["own"])
    response = client.post(
        coding_url(conversation), {**FORM, "gender": "non_binary", "action": "draft"}, follow=True
    )
    assert response.redirect_chain[-1][0] == coding_url(conversation)
    assert "Draft saved at" in response.content.decode()
    assert checked(response.content.decode(), "gender") == ["non_binary"]
    conversation.refresh_from_db()
    assert conversation.coded_at is None


def test_nobody_else_can_save_a_draft(people: dict[str, Any], conversation) -> None:  # type: ignore[no-untyped-def]
    for who in ("other", "analyst"):
        response = signed_in(people[who]).post(
            f"/en/console/cases/conversation/{conversation.id}/draft/", FORM
        )
        assert response.status_code == 404
    assert not CodingDraft.objects.exists()


def test_a_returning_visitor_shows_the_earlier_record(people: dict[str, Any], clock) -> None:  # type: ignore[no-untyped-def]
    """A later conversation in which the visitor gave their return code shows the earlier
    coded record (not the earlier transcript) and starts the form from the case's answers."""
    first = chat(people["own"], end=False, text="synthetic first conversation")
    phrase = services.return_code_issue(conversation_id=first.id)
    chat_services.conversation_end(conversation_id=first.id, party="visitor")
    case = code(people["own"], first, urgency="emergency")
    clock.advance(days=3)
    later, _token = chat_services.conversation_start(language="nl")
    services.return_code_use(conversation_id=later.id, phrase=phrase)
    chat_services.conversation_accept(conversation_id=later.id, counsellor=people["own"])
    later.refresh_from_db()
    html = signed_in(people["own"]).get(coding_url(later)).content.decode()
    assert "Earlier coded record (returning visitor)" in html
    assert checked(html, "urgency") == ["emergency"]
    assert f"/en/console/cases/{case.id}/" in html
    assert "synthetic first conversation" not in html
    assert "Returning visitor: they gave a valid return code." in html


# --- transcript, retention and holds -------------------------------------------------------


def test_the_transcript_read_is_audited_and_shown_as_text(
    people: dict[str, Any], clock, settings
) -> None:  # type: ignore[no-untyped-def]
    """Opening the coding page reads the transcript through the audited service; markup in
    a message is shown as text; the page says when the transcript will be deleted."""
    settings.HAVEN_TRANSCRIPT_RETENTION_DAYS = 30
    conversation = chat(people["own"], text="<script>alert(1)</script> synthetic")
    client = signed_in(people["supervisor"])
    html = client.get(coding_url(conversation)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; synthetic" in html
    assert "<script>alert" not in html
    reads = AuditEntry.objects.filter(action="transcript.read", target_id=str(conversation.id))
    assert [entry.actor_name for entry in reads] == ["sem"]
    assert 'id="retention" data-date="2026-04-01"' in html
    assert "This transcript will be deleted on April 1, 2026." in html


def test_a_deleted_transcript_says_so(people: dict[str, Any], clock) -> None:  # type: ignore[no-untyped-def]
    conversation = chat(people["own"], text="synthetic words that will be deleted")
    code(people["own"], conversation)
    clock.advance(days=31)
    chat_services.transcripts_purge()
    html = signed_in(people["own"]).get(coding_url(conversation)).content.decode()
    assert 'id="transcript-deleted"' in html
    assert "synthetic words" not in html
    assert 'id="earlier-record"' in html  # the coded record stays
    assert not AuditEntry.objects.filter(action="transcript.read").exists()


def test_hold_place_and_release(people: dict[str, Any], conversation, clock) -> None:  # type: ignore[no-untyped-def]
    """A counsellor places a hold with a reason and a number of days: the page shows it
    (reason, who, until when) instead of the deletion date; releasing it ends it."""
    client = signed_in(people["own"])
    url = f"/en/console/cases/conversation/{conversation.id}/hold/"
    response = client.post(
        url, {"reason": "Synthetic: wants to report to the police", "days": "10"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#holds")
    hold = TranscriptHold.objects.get(conversation=conversation)
    assert hold.expires_at == clock.moment + dt.timedelta(days=10)
    html = client.get(coding_url(conversation)).content.decode()
    assert "Synthetic: wants to report to the police" in html
    assert f'data-hold="{hold.id}" data-expires="2026-03-12"' in html
    assert "Kept until March 12, 2026" in html
    assert "will be deleted on" not in html
    assert f'data-hold="{hold.id}"' in html
    # Someone else can neither place nor release one.
    other = signed_in(people["other"])
    assert other.post(url, {"reason": "x", "days": "5"}).status_code == 404
    assert other.post(f"/en/console/cases/hold/{hold.id}/release/").status_code == 404
    released = client.post(f"/en/console/cases/hold/{hold.id}/release/")
    assert released.status_code == 302
    hold.refresh_from_db()
    assert hold.released_at == clock.moment and hold.released_by == people["own"]
    html = client.get(coding_url(conversation)).content.decode()
    assert f'data-hold="{hold.id}"' not in html
    assert "will be deleted on" in html


def test_a_hold_without_a_reason_is_refused_with_the_reason_why(
    people: dict[str, Any], conversation
) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(people["own"])
    url = f"/en/console/cases/conversation/{conversation.id}/hold/"
    html = client.post(url, {"reason": "  ", "days": "10"}, follow=True).content.decode()
    assert "Give a reason for the hold." in html
    html = client.post(url, {"reason": "synthetic", "days": "ten"}, follow=True).content.decode()
    assert "whole number" in html
    html = client.post(url, {"reason": "synthetic", "days": "9999"}, follow=True).content.decode()
    assert "A hold lasts from 1 to" in html
    assert not TranscriptHold.objects.exists()


# --- review --------------------------------------------------------------------------------


def test_supervisor_correction_is_audited_and_shown_in_the_history(
    people: dict[str, Any], conversation, clock
) -> None:  # type: ignore[no-untyped-def]
    """A supervisor corrects a case: it is saved and marked reviewed, the audit log has who
    and the change, and the case page's history shows it in words (old -> new)."""
    case = code(people["own"], conversation)
    clock.advance(hours=2)
    client = signed_in(people["supervisor"])
    overview = client.get("/en/console/cases/").content.decode()
    assert f'data-case="{case.id}"' in overview
    response = client.post(
        f"/en/console/cases/{case.id}/", {**FORM, "urgency": "emergency"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/en/console/cases/{case.id}/"
    case.refresh_from_db()
    assert case.urgency == "emergency"
    assert case.reviewed_at == clock.moment and case.reviewed_by == people["supervisor"]
    entry = AuditEntry.objects.get(action="case.correct", target_id=str(case.id))
    assert entry.actor_name == "sem"
    assert entry.detail["changes"] == {"urgency": ["urgent", "emergency"]}
    html = response.content.decode()
    assert re.search(r"Urgency: <del>urgent</del> → <ins>emergency</ins>", html)
    assert "Corrected by a supervisor" in html
    assert 'id="reviewed"' in html
    overview = client.get("/en/console/cases/").content.decode()
    assert f'data-case="{case.id}"' not in overview


def test_an_invalid_correction_changes_nothing(people: dict[str, Any], conversation) -> None:  # type: ignore[no-untyped-def]
    case = code(people["own"], conversation)
    response = signed_in(people["supervisor"]).post(
        f"/en/console/cases/{case.id}/", {**FORM, "age": "3"}
    )
    assert response.status_code == 200
    assert 'id="error-summary"' in response.content.decode()
    case.refresh_from_db()
    assert case.reviewed_at is None and case.age == 14
    assert not AuditEntry.objects.filter(action="case.correct").exists()


# --- export and import ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("csv", "text/csv"), ("json", "application/json")]
)
def test_export_downloads_codes_only_and_is_audited(
    people: dict[str, Any], clock, fmt: str, content_type: str
) -> None:  # type: ignore[no-untyped-def]
    conversation = chat(people["own"], text="synthetic transcript words")
    case = code(people["own"], conversation)
    response = signed_in(people["analyst"]).get(f"/en/console/cases/export/?format={fmt}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"] == f'attachment; filename="haven-cases-2026-03-02.{fmt}"'
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert str(case.id) in body
    assert "synthetic transcript words" not in body
    entry = AuditEntry.objects.get(action="cases.export")
    assert entry.actor_name == "ana" and entry.detail["format"] == fmt


def test_export_page_explains_and_refuses_unknown_formats(people: dict[str, Any]) -> None:
    client = signed_in(people["supervisor"])
    html = client.get("/en/console/cases/export/").content.decode()
    assert "Never a transcript" in html
    assert 'href="?format=csv"' in html and 'href="?format=json"' in html
    assert client.get("/en/console/cases/export/?format=xml").status_code == 404
    assert not AuditEntry.objects.filter(action="cases.export").exists()


def csv_file(*records: dict[str, Any], name: str = "cases.csv") -> SimpleUploadedFile:
    """A CSV file in Haven's format, one row per (raw) record, written as a spreadsheet
    would (no validation here: a test can write a bad row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(exchange.COLUMNS)
    for record in records:
        full = {**codebook.defaults(), **record}
        row = ["", str(codebook.VERSION), "2026-02"]
        for question in codebook.QUESTIONS:
            value = full[question.name]
            if question.kind is codebook.Kind.MANY:
                row.append(";".join(value))
            else:
                row.append("" if value is None else str(value))
        row.append("false")
        writer.writerow(row)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def test_import_success_says_how_many(people: dict[str, Any], clock) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(people["supervisor"])
    upload = csv_file({"gender": "boy"}, {"contact_type": "silent"})
    response = client.post("/en/console/cases/import/", {"file": upload, "format": ""}, follow=True)
    assert "2 cases were imported." in response.content.decode()
    assert Case.objects.filter(imported=True).count() == 2


def test_import_failure_lists_each_bad_row_and_imports_nothing(
    people: dict[str, Any], clock
) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(people["supervisor"])
    upload = csv_file(
        {"gender": "boy"},
        {"gender": "dragon"},
        {"gender": "girl"},
        {"urgency": "tomorrow"},
    )
    response = client.post("/en/console/cases/import/", {"file": upload, "format": "csv"})
    html = response.content.decode()
    assert "Nothing was imported" in html
    problems = re.findall(r"<li>(Line \d+, column [a-z_]+: [^<]*)</li>", html)
    assert [p.split(":")[0] for p in problems] == [
        "Line 3, column gender",
        "Line 5, column urgency",
    ]
    assert not Case.objects.exists()
    assert not AuditEntry.objects.filter(action="cases.import").exists()


def test_import_needs_a_known_format(people: dict[str, Any]) -> None:
    client = signed_in(people["supervisor"])
    upload = csv_file({"gender": "boy"}, name="cases.txt")
    html = client.post("/en/console/cases/import/", {"file": upload, "format": ""}).content.decode()
    assert "choose the format" in html
    assert not Case.objects.exists()


def test_import_refuses_a_file_too_large(people: dict[str, Any], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from haven.cases import forms

    monkeypatch.setattr(forms, "IMPORT_MAX_BYTES", 10)
    client = signed_in(people["supervisor"])
    html = client.post(
        "/en/console/cases/import/", {"file": csv_file({}), "format": "csv"}
    ).content.decode()
    assert "The file is too large" in html
    assert not Case.objects.exists()


def checked(html: str, name: str) -> list[str]:
    """The values of the inputs named ``name`` that are checked, in page order."""
    return re.findall(
        rf'<input type="(?:radio|checkbox)" name="{name}" id="[^"]+" value="([^"]*)" checked', html
    )


def unanswered(*, wrote: bool) -> Conversation:
    """A chat the visitor left while waiting, with or without writing something first."""
    conversation, _token = chat_services.conversation_start(language="nl")
    if wrote:
        chat_services.message_send(
            conversation_id=conversation.id,
            sender=Message.Sender.VISITOR,
            text="a synthetic test message",
            client_id=uuid.uuid4().hex,
        )
    chat_services.conversation_end(conversation_id=conversation.id, party="visitor")
    conversation.refresh_from_db()
    return conversation


def test_a_visitor_who_wrote_and_left_unanswered_reaches_the_supervisors_list(
    people: dict[str, Any], clock
) -> None:  # type: ignore[no-untyped-def]
    """Nobody answered, but the visitor wrote: a supervisor sees it (marked as unanswered)
    and can code it, so the contact is not lost from the figures. A counsellor does not
    see it, and a chat left without a word is listed for nobody."""
    wrote = unanswered(wrote=True)
    silent = unanswered(wrote=False)
    supervisor = signed_in(people["supervisor"])
    html = supervisor.get("/en/console/cases/").content.decode()
    assert str(wrote.id) in html and str(silent.id) not in html
    assert "nobody answered" in html
    own = signed_in(people["own"]).get("/en/console/cases/").content.decode()
    assert str(wrote.id) not in own
    assert signed_in(people["own"]).get(coding_url(wrote)).status_code == 404

    page = supervisor.get(coding_url(wrote))
    assert page.status_code == 200
    case = code(people["supervisor"], wrote)
    assert case is not None
    wrote.refresh_from_db()
    assert wrote.coded_at is not None
    html = supervisor.get("/en/console/cases/").content.decode()
    assert str(wrote.id) not in html


def test_the_coding_page_shows_times_in_the_helplines_zone(people, clock, settings) -> None:  # type: ignore[no-untyped-def]
    """A message sent at 09:00 UTC on 2 March reads 10:00 (Amsterdam, winter time),
    whatever zone the server runs in; a quick exit is told as such in the transcript."""
    conversation, _token = chat_services.conversation_start(language="nl")
    chat_services.message_send(
        conversation_id=conversation.id, sender="visitor", text="synthetic", client_id="t1"
    )
    chat_services.conversation_accept(conversation_id=conversation.id, counsellor=people["own"])
    chat_services.conversation_end(conversation_id=conversation.id, party="visitor", quick=True)
    page = signed_in(people["own"]).get(coding_url(conversation)).content.decode()
    assert '<time datetime="2026-03-02T10:00:00+01:00">10:00</time>' in page
    assert "The visitor left quickly (the quick exit)." in page


def test_the_coding_pages_call_a_conversation_as_the_console_does(people, clock) -> None:  # type: ignore[no-untyped-def]
    """Its number of the day, with the day: the overview lists conversations of many days."""
    conversation = chat(people["own"])
    page = signed_in(people["own"]).get("/en/console/cases/").content.decode()
    assert f"Conversation {conversation.day_number}, 2 Mar" in page
