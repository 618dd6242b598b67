"""Service tests: coding a conversation into a case, drafts, review, and return codes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from haven.audit.models import AuditEntry
from haven.cases import codebook, returncodes, selectors, services
from haven.cases.models import Case, CaseContact, CodingDraft, ReturnCode
from haven.chat import services as chat_services
from haven.chat.models import Conversation, Message
from haven.chat.services import NotFound

pytestmark = pytest.mark.django_db

# A typical record: a girl of 14, sexually exploited by a "loverboy" met on social media.
ANSWERS: dict[str, Any] = {
    "contact_type": "self",
    "age": 14,
    "gender": "girl",
    "exploitation": ["sexual"],
    "perpetrators": ["partner"],
    "recruitment": "social_media",
    "platform": "snapchat",
    "still_exploited": "yes",
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


def code(actor: Any, conversation: Conversation, **changes: Any) -> Case:
    return services.conversation_code(
        actor=actor, conversation_id=conversation.id, answers={**ANSWERS, **changes}
    )


def audits(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.fixture
def supervisor(make_staff):  # type: ignore[no-untyped-def]
    return make_staff("sara", "supervisor")


# --- coding -----------------------------------------------------------------------------


def test_coding_creates_a_case_with_the_codebook_version_and_a_contact(clock, counsellor) -> None:
    """The first coding makes the case (current codebook version, coded by and when), links
    the conversation, records the contact day and audits "case.code" with every answer."""
    conversation = chat(counsellor)
    case = code(counsellor, conversation)
    assert case.codebook_version == codebook.VERSION
    assert case.coded_at == clock.moment
    assert case.coded_by == counsellor
    assert case.answers()["age_band"] == "12_15"  # filled in from the age
    assert case.answers()["exploitation"] == ("sexual",)
    conversation.refresh_from_db()
    assert conversation.case == case
    assert conversation.coded_at == clock.moment
    contact = CaseContact.objects.get(case=case)
    assert contact.conversation == conversation
    assert contact.on == conversation.created_at.date()
    [entry] = audits("case.code")
    assert entry.actor == counsellor
    assert entry.target_type == "case"
    assert entry.target_id == str(case.id)
    assert entry.detail["conversation"] == str(conversation.id)
    assert entry.detail["changes"]["gender"] == [None, "girl"]
    assert entry.detail["changes"]["exploitation"] == [None, ["sexual"]]


def test_coding_again_updates_the_case_and_audits_only_what_changed(clock, counsellor) -> None:
    """A second coding corrects the same case; the audit entry ("case.update") holds the
    changed answers with their old and new codes, nothing else."""
    conversation = chat(counsellor)
    case = code(counsellor, conversation)
    clock.advance(hours=1)
    again = code(counsellor, conversation, gender="non_binary", still_exploited="no")
    assert again.pk == case.pk
    assert Case.objects.count() == 1
    assert again.coded_at == clock.moment - dt.timedelta(hours=1)  # first coding stays
    assert again.answers()["gender"] == "non_binary"
    [entry] = audits("case.update")
    assert entry.detail["changes"] == {
        "gender": ["girl", "non_binary"],
        "still_exploited": ["yes", "no"],
    }
    assert CaseContact.objects.filter(case=case).count() == 1


def test_coding_while_the_chat_runs_is_allowed(counsellor) -> None:
    """A counsellor may code during the conversation; it is then not "still to code"."""
    conversation = chat(counsellor, end=False)
    assert conversation.status == Conversation.Status.ACTIVE
    code(counsellor, conversation)
    chat_services.conversation_end(conversation_id=conversation.id, party="visitor")
    assert not selectors.still_to_code(counsellor).exists()


def test_answers_that_break_the_codebook_change_nothing(counsellor) -> None:
    """Invalid answers raise codebook.Invalid with every problem; no case, no audit entry."""
    conversation = chat(counsellor)
    with pytest.raises(codebook.Invalid) as caught:
        code(counsellor, conversation, gender="x", platform="")
    assert set(caught.value.errors) == {"gender", "platform"}
    assert not Case.objects.exists()
    assert not audits("case.code")
    conversation.refresh_from_db()
    assert conversation.coded_at is None


def test_a_counsellor_cannot_code_another_s_conversation(make_counsellor) -> None:
    """Someone else's conversation is "not found", exactly like a missing one."""
    anna, bram = make_counsellor("anna"), make_counsellor("bram")
    conversation = chat(anna)
    with pytest.raises(NotFound) as other:
        code(bram, conversation)
    with pytest.raises(NotFound) as missing:
        services.conversation_code(actor=bram, conversation_id=uuid.uuid4(), answers=ANSWERS)
    assert other.value.message == missing.value.message
    with pytest.raises(NotFound):
        services.coding_draft_save(actor=bram, conversation_id=conversation.id, data={})
    assert not Case.objects.exists()


def test_a_supervisor_can_code_any_conversation(counsellor, supervisor) -> None:
    """Supervisors code (or finish coding) any counsellor's conversation."""
    conversation = chat(counsellor)
    case = code(supervisor, conversation)
    assert case.coded_by == supervisor


def test_nobody_codes_a_conversation_nobody_answered(counsellor, supervisor, make_staff) -> None:
    """A conversation still waiting has nothing to code; an analyst codes nothing at all."""
    waiting, _token = chat_services.conversation_start(language="nl")
    for actor in (counsellor, supervisor):
        with pytest.raises(NotFound):
            code(actor, waiting)
    analyst = make_staff("ali", "analyst")
    with pytest.raises(NotFound):
        code(analyst, chat(counsellor))


def test_still_to_code_lists_ended_uncoded_conversations(make_counsellor, supervisor) -> None:
    """A counsellor sees their own ended, uncoded conversations, oldest first; a supervisor
    sees everyone's; coding removes a conversation from the list."""
    anna, bram = make_counsellor("anna"), make_counsellor("bram")
    first, second, brams = chat(anna), chat(anna), chat(bram)
    chat(anna, end=False)  # still running: not yet to code
    assert list(selectors.still_to_code(anna)) == [first, second]
    assert list(selectors.still_to_code(bram)) == [brams]
    assert set(selectors.still_to_code(supervisor)) == {first, second, brams}
    code(anna, first)
    assert list(selectors.still_to_code(anna)) == [second]


def test_drafts_keep_only_codebook_answers_as_short_codes(counsellor) -> None:
    """A draft is the form as left, unvalidated, but only codebook keys, short strings or
    lists of them: free text cannot hide in it. Coding deletes it."""
    conversation = chat(counsellor)
    services.coding_draft_save(
        actor=counsellor,
        conversation_id=conversation.id,
        data={
            "gender": "girl",
            "age": 15,
            "exploitation": ["sexual", "labour"],
            "platform": None,
            "notes": "free text that must not be kept",
            "urgency": "x" * 500,
        },
    )
    draft = selectors.draft_for(conversation)
    assert draft == {
        "gender": "girl",
        "age": "15",
        "exploitation": ["sexual", "labour"],
        "platform": "",
        "urgency": "x" * 32,
    }
    code(counsellor, conversation)
    assert selectors.draft_for(conversation) is None
    assert not CodingDraft.objects.exists()


def test_saving_a_draft_again_replaces_it(clock, counsellor) -> None:
    """One draft per conversation, the latest."""
    conversation = chat(counsellor)
    services.coding_draft_save(actor=counsellor, conversation_id=conversation.id, data={"a": 1})
    clock.advance(minutes=2)
    services.coding_draft_save(
        actor=counsellor, conversation_id=conversation.id, data={"gender": "boy"}
    )
    draft = CodingDraft.objects.get()
    assert draft.data == {"gender": "boy"}
    assert draft.updated_at == clock.moment


# --- review ------------------------------------------------------------------------------


def test_a_supervisor_corrects_a_case_and_it_is_audited_and_reviewed(
    clock, counsellor, supervisor
) -> None:
    """The correction changes the answers, marks the case reviewed (by whom, when) and
    writes "case.correct" with the old and new codes of each changed answer."""
    case = code(counsellor, chat(counsellor))
    assert list(selectors.to_review(supervisor)) == [case]
    clock.advance(days=1)
    corrected = services.case_correct(
        actor=supervisor, case_id=case.id, answers={**ANSWERS, "duration": "1_2"}
    )
    assert corrected.answers()["duration"] == "1_2"
    assert corrected.reviewed_at == clock.moment
    assert corrected.reviewed_by == supervisor
    assert list(selectors.to_review(supervisor)) == []
    [entry] = audits("case.correct")
    assert entry.actor == supervisor
    assert entry.target_id == str(case.id)
    assert entry.detail == {"changes": {"duration": ["unknown", "1_2"]}, "reviewed": True}


def test_a_correction_can_leave_the_case_unreviewed(counsellor, supervisor) -> None:
    """With reviewed=False the change is made and audited but the case stays to review."""
    case = code(counsellor, chat(counsellor))
    services.case_correct(
        actor=supervisor,
        case_id=case.id,
        answers={**ANSWERS, "urgency": "emergency"},
        reviewed=False,
    )
    case.refresh_from_db()
    assert case.reviewed_at is None
    assert case.answers()["urgency"] == "emergency"
    assert audits("case.correct")[0].detail["reviewed"] is False


def test_only_a_supervisor_corrects_a_case(make_counsellor, make_staff) -> None:
    """The case's own counsellor, other counsellors and analysts get "not found"; so does
    a supervisor for a missing or never-coded case. Nothing changes, nothing is audited."""
    anna = make_counsellor("anna")
    case = code(anna, chat(anna))
    supervisor = make_staff("sara", "supervisor")
    for actor in (anna, make_counsellor("bram"), make_staff("ali", "analyst")):
        with pytest.raises(NotFound):
            services.case_correct(actor=actor, case_id=case.id, answers=ANSWERS)
    uncoded = Case.objects.create(created_at=case.created_at)
    for case_id in (uuid.uuid4(), "not-a-uuid", uncoded.id):
        with pytest.raises(NotFound):
            services.case_correct(actor=supervisor, case_id=case_id, answers=ANSWERS)
    assert not audits("case.correct")


def test_a_correction_is_validated_like_coding(counsellor, supervisor) -> None:
    """A supervisor cannot store a record that breaks the codebook either."""
    case = code(counsellor, chat(counsellor))
    with pytest.raises(codebook.Invalid):
        services.case_correct(actor=supervisor, case_id=case.id, answers={"age": 3})
    case.refresh_from_db()
    assert case.answers()["age"] == 14


def test_access_case_answers_alike_for_missing_and_forbidden(make_counsellor, make_staff) -> None:
    """A counsellor sees the cases of conversations they counselled, a supervisor every
    case; anyone else, and any missing or malformed id, gets None."""
    anna, bram = make_counsellor("anna"), make_counsellor("bram")
    case = code(anna, chat(anna))
    assert selectors.access_case(anna, case.id) == case
    assert selectors.access_case(make_staff("sara", "supervisor"), case.id) == case
    assert selectors.access_case(bram, case.id) is None
    assert selectors.access_case(make_staff("ali", "analyst"), case.id) is None
    assert selectors.access_case(anna, uuid.uuid4()) is None
    assert selectors.access_case(anna, "nonsense") is None


# --- return codes ------------------------------------------------------------------------


def key() -> bytes:
    return services._return_code_key()


def test_a_return_code_is_stored_only_as_a_keyed_hash(clock, counsellor, settings) -> None:
    """The phrase is returned once; the database holds its HMAC, valid for the set days."""
    conversation = chat(counsellor, end=False)
    phrase = services.return_code_issue(conversation_id=conversation.id)
    assert returncodes.looks_valid(phrase)
    stored = ReturnCode.objects.get()
    assert stored.code_hash == returncodes.digest(phrase, key=key())
    assert phrase not in stored.code_hash
    assert stored.expires_at == clock.moment + dt.timedelta(days=settings.HAVEN_RETURN_CODE_DAYS)
    conversation.refresh_from_db()
    assert conversation.case == stored.case
    assert not stored.case.is_coded  # not counted until a counsellor codes it


def test_a_return_code_links_a_new_conversation_to_the_same_case(make_counsellor) -> None:
    """The visitor comes back (any device) and types the code: the new conversation joins
    the earlier case, is marked returning, and its new counsellor sees the coded record.
    Coding the new conversation updates that case and adds a second contact."""
    anna, bram = make_counsellor("anna"), make_counsellor("bram")
    first = chat(anna, end=False)
    phrase = services.return_code_issue(conversation_id=first.id)
    case = code(anna, first)
    chat_services.conversation_end(conversation_id=first.id, party="visitor")

    later = chat(bram, end=False)
    assert selectors.access_case(bram, case.id) is None
    linked = services.return_code_use(
        conversation_id=later.id, phrase=phrase.upper().replace("-", " ")
    )
    assert linked.pk == case.pk
    later.refresh_from_db()
    assert later.case_id == case.id
    assert later.returning
    assert later.messages.filter(kind=Message.Kind.RETURNED).exists()
    assert selectors.access_case(bram, case.id) == case

    code(bram, later, still_exploited="no")
    assert Case.objects.count() == 1
    assert CaseContact.objects.filter(case=case).count() == 2
    assert audits("case.update")[0].detail["changes"] == {"still_exploited": ["yes", "no"]}


def refusal(conversation: Conversation, phrase: str, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(services.ReturnCodeRefused) as caught:
        services.return_code_use(conversation_id=conversation.id, phrase=phrase, **kwargs)
    return caught.value.code, caught.value.message


def test_a_wrong_or_expired_code_reveals_nothing(clock, counsellor, settings) -> None:
    """A malformed code, a well-formed unknown code and a once-valid expired code all get
    the same exception with the same words: a guess cannot tell which it was."""
    first = chat(counsellor, end=False)
    phrase = services.return_code_issue(conversation_id=first.id)
    clock.advance(days=settings.HAVEN_RETURN_CODE_DAYS, seconds=1)
    unknown = "-".join(returncodes.WORDS[:4])
    assert unknown != phrase
    answers = {
        refusal(chat(counsellor, end=False), "not a code"),
        refusal(chat(counsellor, end=False), unknown),
        refusal(chat(counsellor, end=False), phrase),
    }
    assert len(answers) == 1
    [(error_code, message)] = answers
    assert error_code == "return_code_invalid"
    assert "expired" not in message.lower()


def test_a_code_still_works_the_day_before_it_expires_and_use_renews_it(
    clock, counsellor, settings
) -> None:
    """Each use starts the validity period again, so a victim who keeps coming back keeps
    their code."""
    phrase = services.return_code_issue(conversation_id=chat(counsellor, end=False).id)
    clock.advance(days=settings.HAVEN_RETURN_CODE_DAYS - 1)
    services.return_code_use(conversation_id=chat(counsellor, end=False).id, phrase=phrase)
    stored = ReturnCode.objects.get()
    assert stored.last_used_at == clock.moment
    assert stored.expires_at == clock.moment + dt.timedelta(days=settings.HAVEN_RETURN_CODE_DAYS)


def test_too_many_tries_in_one_conversation_are_refused(counsellor, settings) -> None:
    """After HAVEN_RETURN_CODE_ATTEMPTS tries in a conversation even the right code is
    refused there, with the same words as a wrong code."""
    phrase = services.return_code_issue(conversation_id=chat(counsellor, end=False).id)
    guessing = chat(counsellor, end=False)
    wrong = refusal(guessing, "aap-aap-aap-aap")
    for _ in range(settings.HAVEN_RETURN_CODE_ATTEMPTS - 1):
        refusal(guessing, "aap-aap-aap-aap")
    assert refusal(guessing, phrase) == wrong
    guessing.refresh_from_db()
    assert guessing.case is None


def test_too_many_tries_from_one_source_are_refused(counsellor, settings) -> None:
    """Guessing spread over many conversations is slowed per (hashed) source."""
    phrase = services.return_code_issue(conversation_id=chat(counsellor, end=False).id)
    for _ in range(settings.HAVEN_RETURN_CODE_ATTEMPTS_PER_SOURCE):
        refusal(chat(counsellor, end=False), "aap-aap-aap-aap", source="source-hash-1")
    refusal(chat(counsellor, end=False), phrase, source="source-hash-1")
    services.return_code_use(
        conversation_id=chat(counsellor, end=False).id, phrase=phrase, source="source-hash-2"
    )


def test_a_fresh_uncoded_case_is_folded_into_the_returning_one(counsellor) -> None:
    """A visitor who asked for a new code before typing the old one: the fresh, empty case
    is removed and its new code points at the old case, so both codes lead to one victim."""
    first = chat(counsellor, end=False)
    old_phrase = services.return_code_issue(conversation_id=first.id)
    case = code(counsellor, first)
    later = chat(counsellor, end=False)
    new_phrase = services.return_code_issue(conversation_id=later.id)
    fresh = Case.objects.exclude(pk=case.pk).get()
    services.return_code_use(conversation_id=later.id, phrase=old_phrase)
    assert not Case.objects.filter(pk=fresh.pk).exists()
    assert set(ReturnCode.objects.values_list("case_id", flat=True)) == {case.id}
    third = chat(counsellor, end=False)
    assert services.return_code_use(conversation_id=third.id, phrase=new_phrase).pk == case.pk


def test_a_coded_case_is_never_merged_silently(counsellor) -> None:
    """If the conversation's own case is already coded, typing another case's code is
    refused (same words) and both cases stay as they are."""
    old_phrase = services.return_code_issue(conversation_id=chat(counsellor, end=False).id)
    later = chat(counsellor, end=False)
    services.return_code_issue(conversation_id=later.id)
    code(counsellor, later)
    refusal(later, old_phrase)
    assert Case.objects.count() == 2


def test_return_codes_need_a_running_chat(counsellor) -> None:
    """An ended chat can neither get nor use a code (the chat's usual "ended" answer)."""
    phrase = services.return_code_issue(conversation_id=chat(counsellor, end=False).id)
    ended = chat(counsellor)
    with pytest.raises(chat_services.ConversationClosed):
        services.return_code_issue(conversation_id=ended.id)
    with pytest.raises(chat_services.ConversationClosed):
        services.return_code_use(conversation_id=ended.id, phrase=phrase)


def test_a_new_secret_key_invalidates_every_return_code(counsellor, settings) -> None:
    """The HMAC key derives from the secret key: changing it makes old codes stop working."""
    phrase = services.return_code_issue(conversation_id=chat(counsellor, end=False).id)
    settings.SECRET_KEY = "another long secret key for this test only, 0123456789"
    refusal(chat(counsellor, end=False), phrase)
