"""Every URL and every socket route, tried with every role: who may and who may not.

The table below is the specification. A new route without a row makes the test fail.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from haven.asgi import application
from haven.chat.routing import websocket_urlpatterns
from haven.conftest import sign_in_fully

ROLES = ["anonymous", "counsellor", "supervisor", "analyst", "administrator", "no-2fa"]

OK, LOGIN, TWO_FACTOR, FORBIDDEN, ADMIN_LOGIN, NOT_ALLOWED = (
    "200",
    "login",
    "2fa",
    "403",
    "admin-login",
    "405",
)

# Counsellors (their own conversation) and supervisors; nobody else learns it exists.
CONSOLE_ONLY = {
    "anonymous": LOGIN,
    "counsellor": OK,
    "supervisor": OK,
    "analyst": "404",
    "administrator": "404",
    "no-2fa": TWO_FACTOR,
}
POST_ONLY = {**dict.fromkeys(ROLES, NOT_ALLOWED), "anonymous": LOGIN, "no-2fa": TWO_FACTOR}

# path -> expected outcome per role, for GET. "no-2fa" is a counsellor whose session has
# not passed the second factor.
HTTP_TABLE: dict[str, dict[str, str]] = {
    "/": dict.fromkeys(ROLES, OK),
    "/en/": dict.fromkeys(ROLES, OK),
    "/healthz": dict.fromkeys(ROLES, OK),
    "/livez": dict.fromkeys(ROLES, OK),
    "/metrics": dict.fromkeys(ROLES, OK),
    "/console/": {
        "anonymous": LOGIN,
        "counsellor": OK,
        "supervisor": OK,
        # An analyst has no console and is sent on to the figures.
        "analyst": "302",
        "administrator": FORBIDDEN,
        "no-2fa": TWO_FACTOR,
    },
    "/en/console/": {
        "anonymous": LOGIN,
        "counsellor": OK,
        "supervisor": OK,
        # An analyst has no console and is sent on to the figures.
        "analyst": "302",
        "administrator": FORBIDDEN,
        "no-2fa": TWO_FACTOR,
    },
    "/console/login/": {**dict.fromkeys(ROLES, "302"), "anonymous": OK},
    # (a session without an authenticator yet is sent on to set one up)
    "/console/two-factor/": {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN, "no-2fa": TWO_FACTOR},
    "/console/two-factor/setup/": {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN},
    "/console/logout/": dict.fromkeys(ROLES, NOT_ALLOWED),  # POST only
    "/console/sign-out-everywhere/": {  # POST only, and only after the second factor
        **dict.fromkeys(ROLES, NOT_ALLOWED),
        "no-2fa": TWO_FACTOR,
    },
    "/admin/": {
        **dict.fromkeys(ROLES, ADMIN_LOGIN),
        "administrator": OK,
        "no-2fa": TWO_FACTOR,
    },
    "/admin/auth/user/": {
        **dict.fromkeys(ROLES, ADMIN_LOGIN),
        "administrator": OK,
        "no-2fa": TWO_FACTOR,
    },
    "/admin/audit/auditentry/": {
        **dict.fromkeys(ROLES, ADMIN_LOGIN),
        "administrator": OK,
        "no-2fa": TWO_FACTOR,
    },
    # The chat's opening hours only: transcripts are not in the admin site at all.
    "/admin/chat/": {
        **dict.fromkeys(ROLES, ADMIN_LOGIN),
        "administrator": OK,
        "no-2fa": TWO_FACTOR,
    },
    "/admin/chat/conversation/": {
        **dict.fromkeys(ROLES, ADMIN_LOGIN),
        "administrator": "404",
        "no-2fa": TWO_FACTOR,
    },
    "/admin/chat/openinghours/": {
        **dict.fromkeys(ROLES, ADMIN_LOGIN),
        "administrator": OK,
        "no-2fa": TWO_FACTOR,
    },
    "/admin/letters/": {
        **dict.fromkeys(ROLES, ADMIN_LOGIN),
        "administrator": "404",  # nor are messages left for later
        "no-2fa": TWO_FACTOR,
    },
    # The visitor page's calls for messages left for later: POST only, for anybody (the
    # return code is the key; haven/letters/views.py).
    "/letter/leave": dict.fromkeys(ROLES, NOT_ALLOWED),
    "/letter/read": dict.fromkeys(ROLES, NOT_ALLOWED),
    "/letter/add": dict.fromkeys(ROLES, NOT_ALLOWED),
    # The two questions after a chat (haven/feedback/views.py): POST only, for anybody.
    "/feedback": dict.fromkeys(ROLES, NOT_ALLOWED),
    # Messages left for later (haven/letters/urls.py): whoever uses the console answers.
    # Who a conversation could be transferred to (haven/chat/views.py).
    "/console/colleagues/": CONSOLE_ONLY,
    # The team's figures (haven/reports/team_views.py): supervisors only.
    "/console/reports/team/": {**CONSOLE_ONLY, "counsellor": "404"},
    "/console/reports/team.csv": {**CONSOLE_ONLY, "counsellor": "404"},
    # The team's danger words (haven/chat/views.py): supervisors keep them.
    "/console/danger-words/": {**CONSOLE_ONLY, "counsellor": "404"},
    "/console/letters/": CONSOLE_ONLY,
    "/console/letters/count/": CONSOLE_ONLY,
    "/console/letters/<uuid:letter_id>/": CONSOLE_ONLY,
    # Canned responses (haven/canned/urls.py): supervisors manage them.
    "/console/canned/": {**CONSOLE_ONLY, "counsellor": "404"},
    "/console/canned/new/": {**CONSOLE_ONLY, "counsellor": "404"},
    "/console/canned/<int:response_id>/": {**CONSOLE_ONLY, "counsellor": "404"},
    "/console/canned/<int:response_id>/delete/": POST_ONLY,
    # The referral directory (haven/referrals/urls.py): supervisors manage it.
    "/console/referrals/": {**CONSOLE_ONLY, "counsellor": "404"},
    "/console/referrals/new/": {**CONSOLE_ONLY, "counsellor": "404"},
    "/console/referrals/<int:referral_id>/": {**CONSOLE_ONLY, "counsellor": "404"},
    "/console/referrals/<int:referral_id>/delete/": POST_ONLY,
    # Coding (haven/cases/urls.py). Paths with <...> are tried with the objects of the
    # `objects` fixture: a conversation "cora" (the counsellor) counselled and coded, its
    # case, and a hold on its transcript.
    "/console/cases/": CONSOLE_ONLY,
    "/console/cases/count/": CONSOLE_ONLY,
    "/console/cases/conversation/<uuid:conversation_id>/": CONSOLE_ONLY,
    "/console/cases/conversation/<uuid:conversation_id>/draft/": POST_ONLY,
    "/console/cases/conversation/<uuid:conversation_id>/hold/": POST_ONLY,
    "/console/cases/hold/<int:hold_id>/release/": POST_ONLY,
    "/console/cases/<uuid:case_id>/": CONSOLE_ONLY,
    "/console/cases/export/": {**CONSOLE_ONLY, "counsellor": "404", "analyst": OK},
    "/console/cases/import/": {**CONSOLE_ONLY, "counsellor": "404"},
    # The figures (haven/reports/urls.py): analysts only; downloads go through the same page.
    "/console/reports/": {
        **dict.fromkeys(ROLES, "404"),
        "anonymous": LOGIN,
        "analyst": OK,
        "no-2fa": TWO_FACTOR,
    },
    # Estimates (haven/estimation/urls.py): analysts only, as the figures. Paths with
    # <uuid:estimate_id> are tried with an estimate the analyst saved.
    "/console/estimates/": {
        **dict.fromkeys(ROLES, "404"),
        "anonymous": LOGIN,
        "analyst": OK,
        "no-2fa": TWO_FACTOR,
    },
    "/console/estimates/<uuid:estimate_id>/": {
        **dict.fromkeys(ROLES, "404"),
        "anonymous": LOGIN,
        "analyst": OK,
        "no-2fa": TWO_FACTOR,
    },
    "/console/estimates/<uuid:estimate_id>/delete/": POST_ONLY,
}

SOCKET_TABLE: dict[str, dict[str, bool]] = {
    "/ws/visitor/": dict.fromkeys(ROLES, True),
    "/ws/console/": {
        "anonymous": False,
        "counsellor": True,
        "supervisor": True,
        "analyst": False,
        "administrator": False,
        "no-2fa": False,
    },
}


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                found.append("/admin/")
                continue
            found += _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append("/" + prefix + str(pattern.pattern))
    return found


def test_the_table_covers_every_route() -> None:
    """Adding a page or a socket means deciding, here, who may use it."""
    routes = {
        re.sub(r"^/[a-z]{2}/", "/", r.replace("^", "").replace("$", ""))
        for r in _routes(get_resolver().url_patterns)
    }
    assert routes <= set(HTTP_TABLE) | {"/console/"}, routes - set(HTTP_TABLE)
    sockets = {"/" + str(p.pattern) for p in websocket_urlpatterns}
    assert sockets == set(SOCKET_TABLE)


@pytest.fixture
def people(make_staff, django_user_model) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "anonymous": None,
        "counsellor": make_staff("cora", "counsellor"),
        "supervisor": make_staff("sem", "supervisor"),
        "analyst": make_staff("ana", "analyst"),
        "administrator": make_staff("adam", "administrator"),
        "no-2fa": make_staff("nora", "counsellor"),
    }


def _client_for(role: str, people: dict[str, Any]) -> Client:
    client = Client()
    person = people[role]
    if role == "no-2fa":
        client.force_login(person)
    elif person is not None:
        sign_in_fully(client, person)
    return client


def _outcome(response: Any) -> str:
    if response.status_code == 302:
        location = re.sub(r"^/[a-z]{2}/", "/", response["Location"])
        if location.startswith("/console/two-factor/"):
            return TWO_FACTOR
        if location.startswith("/console/login/"):
            return LOGIN
        if location.startswith("/admin/login/"):
            return ADMIN_LOGIN
        return "302"
    return str(response.status_code)


@pytest.fixture
def objects(people: dict[str, Any]) -> dict[str, str]:
    """What the paths with parameters are tried with (see HTTP_TABLE)."""
    from haven.cases.services import conversation_code
    from haven.chat import services as chat_services
    from haven.estimation.services import estimate_create
    from haven.letters.services import letter_leave

    conversation, _token = chat_services.conversation_start(language="nl")
    chat_services.conversation_accept(
        conversation_id=conversation.id, counsellor=people["counsellor"]
    )
    chat_services.conversation_end(conversation_id=conversation.id, party="visitor")
    case = conversation_code(
        actor=people["counsellor"], conversation_id=conversation.id, answers={}
    )
    hold = chat_services.transcript_hold_place(
        actor=people["counsellor"], conversation_id=conversation.id, reason="synthetic"
    )
    saved = estimate_create(
        actor=people["analyst"], title="synthetic", year=None, table_csv="a,b,count\n1,0,3\n"
        "0,1,4\n1,1,2\n", method="stepwise", bootstrap=0, seed=1,
    )  # fmt: skip
    left = letter_leave(text="synthetic", language="nl")
    from haven.canned.models import CannedResponse
    from haven.canned.services import canned_save

    canned = canned_save(
        actor=people["supervisor"],
        response=CannedResponse(language="nl", shortcut="hoi", title="Hoi", text="synthetic"),
    )
    from haven.referrals.models import Referral
    from haven.referrals.services import referral_save

    referral = referral_save(
        actor=people["supervisor"],
        referral=Referral(organisation="Synthetic", helps_with="synthetic"),
    )
    return {
        "<int:response_id>": str(canned.pk),
        "<int:referral_id>": str(referral.pk),
        "<uuid:letter_id>": str(left.letter.id),
        "<uuid:conversation_id>": str(conversation.id),
        "<uuid:case_id>": str(case.id),
        "<int:hold_id>": str(hold.id),
        "<uuid:estimate_id>": str(saved.id),
    }


def _concrete(path: str, objects: dict[str, str]) -> str:
    for placeholder, value in objects.items():
        path = path.replace(placeholder, value)
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_specified(
    role: str, people: dict[str, Any], objects: dict[str, str]
) -> None:
    client = _client_for(role, people)
    outcomes = {path: _outcome(client.get(_concrete(path, objects))) for path in HTTP_TABLE}
    expected = {path: row[role] for path, row in HTTP_TABLE.items()}
    assert outcomes == expected


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("role", ROLES)
async def test_every_socket_answers_each_role_as_specified(
    role: str, people: dict[str, Any]
) -> None:
    client = await database_sync_to_async(_client_for)(role, people)
    cookie = client.cookies.get("sessionid")
    headers = [(b"origin", b"http://127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie.value}".encode()))
    for path, row in SOCKET_TABLE.items():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        if row[role]:
            if path == "/ws/console/":
                assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
            else:
                await communicator.send_json_to({"type": "start"})
                assert (await communicator.receive_json_from(timeout=5))["type"] == "welcome"
        else:
            closed = await communicator.receive_output(timeout=5)
            assert closed == {"type": "websocket.close", "code": 4403}, (path, role)
        await communicator.disconnect()
