"""WebSocket endpoints. Thin: authorise, check the frame, call one service, forward events.

Frames are documented in docs/protocol.md and typed in :mod:`haven.chat.events`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from haven.accounts.permissions import can, is_fully_signed_in
from haven.accounts.roles import Action
from haven.cases import services as cases_services
from haven.chat import selectors, services
from haven.chat.events import (
    CONSOLE_GROUP,
    SUPERVISOR_GROUP,
    ConsoleHelloEvent,
    ErrorEvent,
    Event,
    HistoryEvent,
    ReturnCodeAcceptedEvent,
    ReturnCodeEvent,
    StateEvent,
    WelcomeEvent,
    conversation_group,
    counsellor_group,
)
from haven.chat.models import Conversation, Message
from haven.chat.protocol import (
    COUNSELLOR_FRAMES,
    MAX_FRAME_BYTES,
    VISITOR_FRAMES,
    Field,
    FrameError,
    parse_frame,
)
from haven.chat.ratelimit import TokenBucket
from haven.core.sources import source_of

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are ours): the client shows a calm message and does not retry.
CLOSE_FLOOD = 4429
CLOSE_FORBIDDEN = 4403
# How often a console connection checks again that its person may still be there.
RECHECK_SECONDS = 60.0


class _BaseConsumer(AsyncWebsocketConsumer):
    """Shared frame handling: size and JSON checks, flood control, error frames."""

    schema: dict[str, tuple[Field, ...]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined: set[str] = set()
        self.lang = settings.LANGUAGE_CODE
        self.bucket = self.make_bucket()

    def make_bucket(self) -> TokenBucket:
        return TokenBucket(burst=settings.HAVEN_RATE_BURST, rate=settings.HAVEN_RATE_PER_SECOND)

    async def connect(self) -> None:
        self.lang = _language_from_query(self.scope.get("query_string", b""))
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in list(self.joined):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined.clear()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        with translation.override(self.language()):
            if not self.bucket.take():
                await self.refused_for_flood(text_data)
                return
            try:
                frame = parse_frame(text_data if text_data is not None else bytes_data, self.schema)
            except FrameError as exc:
                ids = _identifiers_of(text_data)
                await self.send_error(
                    exc.code,
                    _frame_error_text(exc.code),
                    client_id=ids.get("client_id"),
                    conversation=ids.get("conversation"),
                )
                return
            try:
                await getattr(self, "on_" + frame["type"])(frame)
            except services.ChatError as exc:
                await self.send_error(
                    exc.code,
                    exc.message,
                    client_id=frame.get("client_id"),
                    conversation=frame.get("conversation"),
                    retry_after=getattr(exc, "retry_after", None),
                )

    async def refused_for_flood(self, text_data: str | None) -> None:
        ids = _identifiers_of(text_data)
        if self.bucket.strikes >= settings.HAVEN_RATE_STRIKES:
            await self.send_error(
                "flood", _("Too many messages at once. The connection is closed.")
            )
            await self.close(code=CLOSE_FLOOD)
            return
        await self.send_error(
            "rate_limited",
            _("You are sending very quickly. Wait a moment; your message will be sent."),
            retry_after=self.bucket.retry_after(),
            client_id=ids.get("client_id"),
            conversation=ids.get("conversation"),
        )

    def language(self) -> str:
        return self.lang

    async def join(self, group: str) -> None:
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.add(group)

    async def leave(self, group: str) -> None:
        if group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.joined.discard(group)

    async def send_event(self, event: Event) -> None:
        await self.send(text_data=json.dumps(event, ensure_ascii=False))

    async def send_error(
        self,
        code: str,
        message: str,
        *,
        client_id: str | None = None,
        conversation: Any = None,
        retry_after: float | None = None,
    ) -> None:
        event: ErrorEvent = {"type": "error", "code": code, "message": message}
        if client_id:
            event["client_id"] = client_id
        if conversation:
            event["conversation"] = str(conversation)
        if retry_after is not None:
            event["retry_after"] = retry_after
        await self.send_event(event)


class VisitorConsumer(_BaseConsumer):
    """The anonymous visitor's connection. Bound to one conversation by its secret token."""

    schema = VISITOR_FRAMES

    async def connect(self) -> None:
        self.conversation_id: uuid.UUID | None = None
        # The highest sequence number this socket has sent the visitor (see haven_event).
        self.sent_seq = 0
        self.source = source_of(self.scope)
        await super().connect()

    async def on_start(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            raise services.ChatError(_("A chat is already open."), code="already_started")
        conversation, token = await database_sync_to_async(services.conversation_start)(
            language=self.lang, source=self.source
        )
        await self._bind(conversation, token=token, last_seq=0)

    async def on_resume(self, frame: dict[str, Any]) -> None:
        conversation = await database_sync_to_async(selectors.conversation_for_token)(
            frame["token"]
        )
        if conversation is None:
            raise services.NotFound(_("This chat was not found. You can start a new chat."))
        if self.conversation_id not in (None, conversation.id):
            raise services.ChatError(_("A chat is already open."), code="already_started")
        if self.source is not None:
            await database_sync_to_async(services.conversation_visitor_seen)(
                conversation_id=conversation.id, source=self.source
            )
        await self._bind(conversation, token=None, last_seq=frame["last_seq"])

    async def on_send(self, frame: dict[str, Any]) -> None:
        conversation_id = self._require_conversation()
        message = await database_sync_to_async(services.message_send)(
            conversation_id=conversation_id,
            sender=Message.Sender.VISITOR,
            text=frame["text"],
            client_id=frame["client_id"],
            source=self.source,
        )
        await self.send_event(
            {
                "type": "ack",
                "conversation": str(conversation_id),
                "client_id": frame["client_id"],
                "seq": message.seq,
            }
        )

    async def on_typing(self, frame: dict[str, Any]) -> None:
        await services.conversation_typing(
            conversation_id=self._require_conversation(), party=Conversation.Party.VISITOR
        )

    async def on_end(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.conversation_end)(
            conversation_id=self._require_conversation(), party=Conversation.Party.VISITOR
        )

    async def on_return_code_request(self, frame: dict[str, Any]) -> None:
        # The phrase goes to this socket only and is kept nowhere: not in the stream, not
        # in a group event, not in a log line.
        phrase = await database_sync_to_async(cases_services.return_code_issue)(
            conversation_id=self._require_conversation()
        )
        reply: ReturnCodeEvent = {"type": "return_code", "code": phrase}
        await self.send_event(reply)

    async def on_return_code_use(self, frame: dict[str, Any]) -> None:
        # Success also appends a "returned" entry to the stream (the service does that),
        # which both sides receive through the conversation's group.
        await database_sync_to_async(cases_services.return_code_use)(
            conversation_id=self._require_conversation(), phrase=frame["code"], source=self.source
        )
        reply: ReturnCodeAcceptedEvent = {"type": "return_code_accepted"}
        await self.send_event(reply)

    async def haven_event(self, message: dict[str, Any]) -> None:
        """Forward a group event. The visitor does not need its own typing echoed."""
        event = message["event"]
        if event["type"] == "typing" and event["sender"] == Conversation.Party.VISITOR:
            return
        if event["type"] not in {"message", "state", "typing", "queue_position"}:
            return
        if event["type"] == "message":
            # A group event can arrive after the history that already held it (joined
            # first, read second; and a pub/sub layer may deliver late). Send each number once.
            if event["message"]["seq"] <= self.sent_seq:
                return
            self.sent_seq = event["message"]["seq"]
        await self.send_event(event)

    def _require_conversation(self) -> uuid.UUID:
        if self.conversation_id is None:
            raise services.ChatError(_("Start or resume a chat first."), code="no_conversation")
        return self.conversation_id

    async def _bind(self, conversation: Conversation, *, token: str | None, last_seq: int) -> None:
        # Join first, then read the history: a message stored in between arrives twice at
        # worst, and the client drops the copy by its sequence number. Never zero times.
        self.conversation_id = conversation.id
        await self.join(conversation_group(conversation.id))
        welcome, history = await database_sync_to_async(_visitor_snapshot)(
            conversation.id, token, last_seq
        )
        self.sent_seq = max([welcome["last_seq"], *(m["seq"] for m in history["messages"])])
        await self.send_event(welcome)
        await self.send_event(history)


def _visitor_snapshot(
    conversation_id: uuid.UUID, token: str | None, last_seq: int
) -> tuple[WelcomeEvent, HistoryEvent]:
    conversation = Conversation.objects.get(pk=conversation_id)
    welcome: WelcomeEvent = {
        "type": "welcome",
        "conversation": str(conversation.id),
        "status": conversation.status,
        "last_seq": conversation.last_seq,
    }
    if token is not None:
        welcome["token"] = token
    if conversation.status == Conversation.Status.WAITING:
        welcome["position"] = selectors.queue_position(conversation)
    if conversation.ended_by:
        welcome["ended_by"] = conversation.ended_by
    history: HistoryEvent = {
        "type": "history",
        "conversation": str(conversation.id),
        "status": conversation.status,
        "messages": selectors.messages_after(conversation, last_seq),
    }
    return welcome, history


class CounsellorConsumer(_BaseConsumer):
    """A counsellor's console: the live queue and every conversation they hold."""

    schema = COUNSELLOR_FRAMES

    def make_bucket(self) -> TokenBucket:
        # Counsellors are signed-in staff; after a reconnect a console with many open
        # conversations sends one "open" per conversation at once.
        return TokenBucket(
            burst=settings.HAVEN_CONSOLE_RATE_BURST, rate=settings.HAVEN_CONSOLE_RATE_PER_SECOND
        )

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.renewed_at = time.monotonic()
        # Per conversation, the highest sequence number this socket has sent (haven_event).
        self.sent_seq: dict[str, int] = {}
        self.watch: asyncio.Task[None] | None = None
        allowed = await database_sync_to_async(_may_use_console)(
            self.user, self.scope.get("session")
        )
        if not allowed:
            # Accept, then close with our code: a refused handshake reaches the browser as
            # 1006, and the console would keep retrying instead of stopping.
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await super().connect()
        await self.join(CONSOLE_GROUP)
        await self.join(counsellor_group(self.user.id))
        hello = await database_sync_to_async(_console_snapshot)(self.user)
        if "live" in hello:
            await self.join(SUPERVISOR_GROUP)
        for entry in hello["conversations"]:
            await self.join(conversation_group(entry["conversation"]))
        await self.send_event(hello)
        self.watch = asyncio.create_task(self._watch())

    async def disconnect(self, code: int) -> None:
        if getattr(self, "watch", None) is not None:
            self.watch.cancel()  # type: ignore[union-attr]
        await super().disconnect(code)

    async def _watch(self) -> None:
        """Every RECHECK_SECONDS, check that this person may still be here: account active,
        role kept, not signed out everywhere, session not expired. If not, close (4403).

        The check does not renew the session: an idle console still expires."""
        session = self.scope.get("session")
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            if not await database_sync_to_async(still_allowed)(self.user, session):
                await self.close(code=CLOSE_FORBIDDEN)
                return

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Working in the console is activity: renew the session now and then, as a page
        # request would, so a counsellor chatting for an hour is not signed out.
        if time.monotonic() - self.renewed_at > RECHECK_SECONDS:
            self.renewed_at = time.monotonic()
            await database_sync_to_async(_renew)(self.scope.get("session"))
        await super().receive(text_data=text_data, bytes_data=bytes_data)

    async def on_open(self, frame: dict[str, Any]) -> None:
        allowed = await database_sync_to_async(selectors.access_conversation)(
            self.user, frame["conversation"]
        )
        if allowed is None:
            raise services.NotFound(_("This conversation was not found."))
        # Join first, then read: a message stored in between arrives twice at worst (the
        # console drops the copy by its number), never zero times.
        group = conversation_group(frame["conversation"])
        await self.join(group)
        try:
            conversation, messages = await database_sync_to_async(services.conversation_open)(
                actor=self.user, conversation_id=frame["conversation"], last_seq=frame["last_seq"]
            )
        except services.NotFound:
            await self.leave(group)
            raise
        history: HistoryEvent = {
            "type": "history",
            "conversation": str(conversation.id),
            "status": conversation.status,
            "messages": messages,
        }
        key = str(conversation.id)
        self.sent_seq[key] = max(
            [self.sent_seq.get(key, 0), conversation.last_seq, *(m["seq"] for m in messages)]
        )
        await self.send_event(history)

    async def on_accept(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.conversation_accept)(
            conversation_id=frame["conversation"], counsellor=self.user
        )

    async def on_send(self, frame: dict[str, Any]) -> None:
        message = await database_sync_to_async(services.message_send)(
            conversation_id=frame["conversation"],
            sender=Message.Sender.COUNSELLOR,
            text=frame["text"],
            client_id=frame["client_id"],
            author=self.user,
        )
        await self.send_event(
            {
                "type": "ack",
                "conversation": str(frame["conversation"]),
                "client_id": frame["client_id"],
                "seq": message.seq,
            }
        )

    async def on_typing(self, frame: dict[str, Any]) -> None:
        conversation = await database_sync_to_async(selectors.access_conversation)(
            self.user, frame["conversation"]
        )
        # Only in a conversation this counsellor holds: a colleague reading along in the
        # queue must not make the visitor think someone is answering.
        if conversation is None or conversation.counsellor_id != self.user.id:
            raise services.NotFound(_("This conversation was not found."))
        if conversation.status != Conversation.Status.ACTIVE:
            return
        await services.conversation_typing(
            conversation_id=frame["conversation"], party=Conversation.Party.COUNSELLOR
        )

    async def on_read(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.conversation_mark_read)(
            conversation_id=frame["conversation"], counsellor=self.user, seq=frame["seq"]
        )

    async def on_end(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.conversation_end)(
            conversation_id=frame["conversation"],
            party=Conversation.Party.COUNSELLOR,
            actor=self.user,
        )

    async def on_block(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.conversation_block)(
            conversation_id=frame["conversation"], actor=self.user
        )

    async def haven_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        meta = message.get("meta") or {}
        if event["type"] == "typing" and event["sender"] == Conversation.Party.COUNSELLOR:
            return
        if event["type"] == "assigned":
            await self.join(conversation_group(event["conversation"]["conversation"]))
        elif event["type"] == "state":
            owner = meta.get("counsellor_id")
            if owner is not None and owner != self.user.id:
                # A colleague took a conversation this console was looking at: stop
                # receiving it, and tell the console it has gone.
                await self.leave(conversation_group(event["conversation"]))
                taken: StateEvent = {
                    "type": "state",
                    "conversation": event["conversation"],
                    "status": "taken",
                }
                await self.send_event(taken)
                return
        if event["type"] == "queue_position":
            return
        if event["type"] == "message":
            # As for the visitor: a late group event whose number this socket already
            # sent (in a history or an earlier event) is dropped.
            key, seq = event["conversation"], event["message"]["seq"]
            if seq <= self.sent_seq.get(key, 0):
                return
            self.sent_seq[key] = seq
        await self.send_event(event)


def _console_snapshot(user: Any) -> ConsoleHelloEvent:
    hello: ConsoleHelloEvent = {
        "type": "hello",
        "queue": selectors.waiting_queue(),
        "conversations": selectors.counsellor_conversations(user),
    }
    if can(user, Action.READ_ANY_TRANSCRIPT):
        hello["live"] = selectors.live_conversations()
    return hello


def _may_use_console(user: Any, session: Any) -> bool:
    """The role allows the console, and this session passed the second factor."""
    return selectors.can_counsel(user) and is_fully_signed_in(user, session)


def still_allowed(user: Any, session: Any) -> bool:
    """Load the account and the session afresh and check both again."""
    fresh = get_user_model().objects.filter(pk=user.pk).first()
    if fresh is None or session is None or not session.session_key:
        return False
    stored = _session_store(session.session_key)
    if not stored.load():  # expired, or signed out (the session is gone)
        return False
    return _may_use_console(fresh, stored)


def _session_store(session_key: str) -> Any:
    """A fresh copy of the session from its store (not the one loaded at connect)."""
    from importlib import import_module

    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def _renew(session: Any) -> None:
    if session is not None and session.session_key:
        stored = _session_store(session.session_key)
        if stored.load():
            stored.modified = True
            stored.save()


def _language_from_query(query_string: bytes) -> str:
    from urllib.parse import parse_qs

    values = parse_qs(query_string.decode("latin-1")).get("lang", [])
    language = values[0] if values else settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _identifiers_of(text_data: str | None) -> dict[str, str]:
    """Best effort: the client_id and conversation of a refused frame, so the client knows
    which message (in which conversation) to retry or give back."""
    if not text_data or len(text_data) > MAX_FRAME_BYTES:
        return {}
    try:
        data = json.loads(text_data)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    found = {}
    for key in ("client_id", "conversation"):
        value = data.get(key)
        if isinstance(value, str) and 0 < len(value) <= 64 and _is_sendable(value):
            found[key] = value
    return found


def _is_sendable(value: str) -> bool:
    """Text that can go back out in a frame (a lone surrogate cannot be encoded)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _frame_error_text(code: str) -> str:
    if code == "frame_too_large":
        return _("That was too much at once. Send a shorter message.")
    if code == "unknown_type":
        return _("Something went wrong. We did not understand this.")
    return _("Something went wrong. We could not read this.")
