"""WebSocket endpoints. Thin: authorise, check the frame, call one service, forward events.

Frames are documented in docs/protocol.md and typed in :mod:`haven.chat.events`. Services
that write run in the process's writer (``db.write``), reads in its database threads
(``db.read``): see :mod:`haven.core.db`. A write's result arrives once it is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
import uuid
from collections import defaultdict
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from haven.accounts.permissions import can, is_fully_signed_in
from haven.accounts.roles import Action
from haven.cases import services as cases_services
from haven.chat import positions, selectors, services, waits
from haven.chat.events import (
    CONSOLE_GROUP,
    SUPERVISOR_GROUP,
    ConsoleHelloEvent,
    ErrorEvent,
    Event,
    HistoryEvent,
    NotesEvent,
    ReturnCodeAcceptedEvent,
    ReturnCodeEvent,
    StaffNotesEvent,
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
    SentNumbers,
    parse_frame,
)
from haven.chat.ratelimit import TokenBucket
from haven.core import abuse, db, metrics, outage
from haven.core.sources import source_of
from haven.letters import selectors as letter_selectors

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are ours): the client shows a calm message and does not retry.
CLOSE_FLOOD = 4429
CLOSE_FORBIDDEN = 4403
# How often a console connection checks again that its person may still be there.
RECHECK_SECONDS = 60.0
# Before closing a flooding socket: how long its stored messages' acknowledgements may take.
FLOOD_ACK_WAIT_SECONDS = 5.0
# While the database is away: how long a client waits before it sends again.
TRY_AGAIN_SECONDS = 2.0


class _BaseConsumer(AsyncWebsocketConsumer):
    """Shared frame handling: size and JSON checks, flood control, error frames."""

    schema: dict[str, tuple[Field, ...]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined: set[str] = set()
        self.pending: set[asyncio.Task[None]] = set()  # acknowledgements being awaited
        self.lang = settings.LANGUAGE_CODE
        self.bucket = self.make_bucket()

    def make_bucket(self) -> TokenBucket:
        return TokenBucket(burst=settings.HAVEN_RATE_BURST, rate=settings.HAVEN_RATE_PER_SECOND)

    # Whether the channel layer is joined only when the socket first joins a group (a
    # visitor's socket: idle until the chat starts, and then it needs its conversation only).
    lazy_channel = False
    # For /metrics: which endpoint, and who sends on it.
    endpoint = ""
    sender = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' ``AsyncConsumer.__call__``, with a leaner loop: a task reading the
        client and a task reading the channel layer, for the connection's life, taking
        turns to handle what they read (one message at a time, in the order they got it).
        Channels' own loop starts a new task and an ``asyncio.wait`` for every message,
        which under a surge was a fifth of the event loop's time."""
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self._turn = asyncio.Lock()
        self._ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pumps: list[asyncio.Task[None]] = []
        self._channel_lock = asyncio.Lock()
        self._cleaned_up = False
        self._closing = False
        self._flooded = False
        self._counted = False
        self.channel_name = ""
        try:
            if not self.lazy_channel:
                # Before reading the client, so that connect() finds the channel open.
                await self.open_channel()
            self._pump(receive)
            await self._ended
        except StopConsumer:
            pass
        except OSError:  # uvicorn's ClientDisconnected, a reset connection
            # An event forwarded to a client that had just gone: the connection ends here,
            # and what it held is let go below, as after a clean close. (Any other error
            # is raised on, after the same clean-up.)
            pass
        except Exception as exc:
            if not outage.is_database_error(exc):
                raise
            # The database is away while connecting (a console's session) or in a handler
            # that has no answer of its own: logged once per outage by haven.core.db, not
            # once per socket. The client reconnects with back-off.
            with contextlib.suppress(Exception):
                await self.close(code=1011)
        finally:
            for task in self._pumps:
                task.cancel()
            await asyncio.gather(*self._pumps, return_exceptions=True)
            await self.clean_up(1011)

    def _pump(self, source: Any) -> None:
        async def pump() -> None:
            try:
                while True:
                    message = await source()
                    async with self._turn:
                        await self.dispatch(message)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # StopConsumer ends the connection, as does an error
                if not self._ended.done():
                    self._ended.set_exception(exc)

        self._pumps.append(asyncio.create_task(pump()))

    async def open_channel(self) -> None:
        """Get this socket's channel on the layer and start reading it (once, also when
        two handlers ask at the same moment)."""
        if self.channel_layer is None or self.channel_name:
            return
        async with self._channel_lock:
            if not self.channel_name:
                self.channel_name = await self.channel_layer.new_channel()
                self._pump(functools.partial(self.channel_layer.receive, self.channel_name))

    async def clean_up(self, code: int) -> None:
        """Let go of what the connection held, once, however it ended: a clean close, an
        error in a pump, a refused connect. Otherwise a socket that ended with an error
        would stay in its groups, and a waiting visitor's keeper would go on saying they
        are connected."""
        if self._cleaned_up:
            return
        self._cleaned_up = True
        if self._counted:
            metrics.connections_open.labels(self.endpoint).dec()
        try:
            await self.disconnect(code)
        except Exception:
            logger.warning("A connection could not be let go of cleanly", exc_info=True)
        if self.channel_name and self.channel_layer is not None:
            delete = getattr(self.channel_layer, "delete_channel", None)
            if delete is not None:
                with contextlib.suppress(Exception):
                    await delete(self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' own dispatch first closes stale database connections, with a hop to its
        one shared thread, before every frame and every event: the queue this module avoids.
        These consumers never use the database on the event loop's thread (their database
        work runs in Haven's threads, which look after their own connections)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # As Channels' own, without the same hop (see dispatch).
        await self.clean_up(message["code"])
        raise StopConsumer()

    async def connect(self) -> None:
        self.lang = _language_from_query(self.scope.get("query_string", b""))
        # For the rest of this connection: everything it says (error frames, and refusals
        # made by services in Haven's threads, which are given the active language) is in
        # its language. The connection runs in its own task, so this touches no other.
        translation.activate(self.lang)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in list(self.joined):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined.clear()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self._closing or self._flooded:
            # Frames already on their way when this socket was closed, or while it closes
            # for a flood (hundreds of them): read at once, left unanswered and undone.
            return
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
            await self.refuse(frame, exc)
        except Exception as exc:
            if not outage.is_database_error(exc):
                raise
            await self.ask_to_try_again(frame)

    async def ask_to_try_again(self, frame: dict[str, Any]) -> None:
        """The database could not do what ``frame`` asked (it is away): say so, and when to
        ask again. The socket stays open; the client keeps a message in its outbox and sends
        it again after ``retry_after`` (both shipped clients do). The outage itself is
        logged once, by haven.core.db."""
        sending = frame.get("type") == "send"
        await self.send_error(
            "try_again",
            _(
                "Your message has not been sent yet. Something is not working on our side. "
                "We will try again in a moment."
            )
            if sending
            else _("Something is not working on our side. We will try again in a moment."),
            client_id=frame.get("client_id"),
            conversation=frame.get("conversation") or getattr(self, "conversation_id", None),
            retry_after=TRY_AGAIN_SECONDS,
        )

    async def refuse(self, frame: dict[str, Any], exc: services.ChatError) -> None:
        await self.send_error(
            exc.code,
            exc.message,
            client_id=frame.get("client_id"),
            conversation=frame.get("conversation"),
            retry_after=getattr(exc, "retry_after", None),
        )

    def acknowledge_later(self, frame: dict[str, Any], stored: asyncio.Future[Any]) -> None:
        """Send the ``ack`` for a ``send`` once its message is committed, without holding up
        this socket meanwhile: a console with many conversations keeps receiving their
        messages while its own replies are being stored. Messages are still stored in the
        order they were sent (the writer takes them in that order)."""
        task = asyncio.create_task(self._acknowledge(frame, stored, time.monotonic()))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        await super().accept(subprotocol=subprotocol, headers=headers)
        if not self._counted:
            self._counted = True
            metrics.connections_open.labels(self.endpoint).inc()

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        if self._closing:
            return  # closed once already (a flood close, then a 1011 from a late answer)
        self._closing = True
        if code == 1011:
            metrics.errors.labels("close_1011").inc()
        await super().close(code=code, reason=reason)

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        """Send a frame, unless this socket is closing: after the close frame the server
        may send nothing more (uvicorn raises on it), and a socket closed for a flood still
        has answers on their way (acknowledgements, forwarded events, refusals)."""
        if self._closing:
            return
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def _acknowledge(
        self, frame: dict[str, Any], stored: asyncio.Future[Any], received: float
    ) -> None:
        try:
            await self._acknowledge_now(frame, stored, received)
        except (OSError, RuntimeError):
            # The socket closed meanwhile (a flood close, a 1011 for another message, the
            # client gone): nobody to tell. The client resends what it has no ack for.
            if not (self._closing or self._cleaned_up):
                raise

    async def _acknowledge_now(
        self, frame: dict[str, Any], stored: asyncio.Future[Any], received: float
    ) -> None:
        try:
            message = await stored
        except services.ChatError as exc:
            await self.refuse(frame, exc)
            return
        except Exception as exc:
            if outage.is_database_error(exc):
                # Not stored (the database is away): no ack; the client keeps the message
                # and sends it again when asked to.
                await self.ask_to_try_again(frame)
                return
            # Not stored, for a reason that is a bug: the client has no ack, keeps the
            # message and sends it again when it reconnects.
            logger.exception("A message could not be stored; its sender will resend it")
            await self.close(code=1011)
            return
        await self.send_event(
            {
                "type": "ack",
                "conversation": str(message.conversation_id),
                "client_id": frame["client_id"],
                "seq": message.seq,
            }
        )
        metrics.messages_stored.labels(self.sender).inc()
        metrics.ack_seconds.labels(self.sender).observe(time.monotonic() - received)

    async def refused_for_flood(self, text_data: str | None) -> None:
        ids = _identifiers_of(text_data)
        if self.bucket.strikes >= settings.HAVEN_RATE_STRIKES:
            # From now on every frame is dropped as it is read (so a flood cannot pile up
            # in memory behind a waiting handler), and the close comes from its own task.
            self._flooded = True
            self._pumps.append(asyncio.create_task(self._close_for_flood()))
            return
        await self.send_error(
            "rate_limited",
            _("You are sending very quickly. Wait a moment; your message will be sent."),
            retry_after=self.bucket.retry_after(),
            client_id=ids.get("client_id"),
            conversation=ids.get("conversation"),
        )

    async def _close_for_flood(self) -> None:
        """Messages let through before the flood are being stored: acknowledge them before
        the close (after it nothing more may be sent), so that the client does not send
        them again; then say why, and close. Not for long (FLOOD_ACK_WAIT_SECONDS)."""
        if self.pending:
            await asyncio.wait(set(self.pending), timeout=FLOOD_ACK_WAIT_SECONDS)
        with contextlib.suppress(OSError, RuntimeError):  # the client may be gone already
            await self.send_error(
                "flood", _("Too many messages at once. The connection is closed.")
            )
            await self.close(code=CLOSE_FLOOD)

    def language(self) -> str:
        return self.lang

    async def join(self, group: str) -> None:
        await self.open_channel()
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.add(group)

    async def leave(self, group: str) -> None:
        if group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.joined.discard(group)

    async def send_event(self, event: Event) -> None:
        await self.send(text_data=json.dumps(event, ensure_ascii=False))

    async def forward(self, message: dict[str, Any]) -> None:
        """Send a group event as it came: as the frame its publisher wrote out once for every
        socket that gets it (haven.chat.events.group_message), or else written out here."""
        frame = message.get("frame")
        if frame is None:
            await self.send_event(message["event"])
        else:
            await self.send(text_data=frame)

    async def send_error(
        self,
        code: str,
        message: str,
        *,
        client_id: str | None = None,
        conversation: Any = None,
        retry_after: float | None = None,
    ) -> None:
        metrics.errors.labels(code).inc()
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
    endpoint = sender = "visitor"
    lazy_channel = True

    async def connect(self) -> None:
        self.conversation_id: uuid.UUID | None = None
        # The highest sequence number this socket has sent the visitor (see haven_event).
        self.sent = SentNumbers()
        self.source = source_of(self.scope)
        await super().connect()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "conversation_id", None) is not None:
            positions.keeper().unwatch(str(self.conversation_id), self.channel_name)
        await super().disconnect(code)

    async def on_start(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            raise services.ChatError(_("A chat is already open."), code="already_started")
        if self.source is not None:
            # A block made on another worker must hold here at once, not a second later.
            await abuse.refresh("blocked-source", self.source)
        conversation, token = await db.write(
            services.conversation_start, language=self.lang, source=self.source
        )
        await self._bind(conversation, token=token, last_seq=0)

    async def on_resume(self, frame: dict[str, Any]) -> None:
        conversation = await db.read(selectors.conversation_for_token, frame["token"])
        if conversation is None:
            raise services.NotFound(_("This chat was not found. You can start a new chat."))
        if self.conversation_id not in (None, conversation.id):
            raise services.ChatError(_("A chat is already open."), code="already_started")
        if self.source is not None:
            services.conversation_visitor_seen(conversation_id=conversation.id, source=self.source)
        await self._bind(conversation, token=None, last_seq=frame["last_seq"])

    async def on_send(self, frame: dict[str, Any]) -> None:
        conversation_id = self._require_conversation()
        request = services.MessageRequest(
            conversation_id=conversation_id,
            sender=Message.Sender.VISITOR,
            text=frame["text"],
            client_id=frame["client_id"],
            source=self.source,
            language=self.lang,
        )
        stored = db.submit_batched(
            services.messages_send, request, lock=(Conversation, conversation_id)
        )
        self.acknowledge_later(frame, stored)

    async def on_typing(self, frame: dict[str, Any]) -> None:
        await services.conversation_typing(
            conversation_id=self._require_conversation(), party=Conversation.Party.VISITOR
        )

    async def on_cover(self, frame: dict[str, Any]) -> None:
        await services.conversation_cover(
            conversation_id=self._require_conversation(), covered=frame["covered"]
        )

    async def on_end(self, frame: dict[str, Any]) -> None:
        conversation_id = self._require_conversation()
        await db.write(
            services.conversation_end,
            conversation_id=conversation_id,
            party=Conversation.Party.VISITOR,
            lock=(Conversation, conversation_id),
        )

    async def on_quick_exit(self, frame: dict[str, Any]) -> None:
        conversation_id = self._require_conversation()
        await db.write(
            services.conversation_end,
            conversation_id=conversation_id,
            party=Conversation.Party.VISITOR,
            quick=True,
            lock=(Conversation, conversation_id),
        )

    async def on_return_code_request(self, frame: dict[str, Any]) -> None:
        # The phrase goes to this socket only and is kept nowhere: not in the stream, not
        # in a group event, not in a log line.
        conversation_id = self._require_conversation()
        phrase = await db.write(
            cases_services.return_code_issue,
            conversation_id=conversation_id,
            lock=(Conversation, conversation_id),
        )
        reply: ReturnCodeEvent = {"type": "return_code", "code": phrase}
        await self.send_event(reply)

    async def on_return_code_use(self, frame: dict[str, Any]) -> None:
        # Success also appends a "returned" entry to the stream (the service does that),
        # which both sides receive through the conversation's group.
        conversation_id = self._require_conversation()
        await db.write(
            cases_services.return_code_use,
            conversation_id=conversation_id,
            phrase=frame["code"],
            source=self.source,
            lock=(Conversation, conversation_id),
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
            # first, read second), or late and out of order (a pub/sub layer, two workers).
            # Send each number once, and every number that was not sent yet.
            if not self.sent.first_time(event["message"]["seq"]):
                return
        elif event["type"] == "state" and self.conversation_id is not None:
            conversation = str(self.conversation_id)
            if event["status"] == Conversation.Status.WAITING and "position" in event:
                # Put back in the queue by its counsellor: this worker keeps the place
                # current again, and says the visitor is here (as after a start).
                positions.keeper().watch(
                    conversation, self.channel_name, (event["position"], None, True)
                )
            else:
                positions.keeper().unwatch(conversation, self.channel_name)
        await self.forward(message)

    def _require_conversation(self) -> uuid.UUID:
        if self.conversation_id is None:
            raise services.ChatError(_("Start or resume a chat first."), code="no_conversation")
        return self.conversation_id

    async def _bind(self, conversation: Conversation, *, token: str | None, last_seq: int) -> None:
        # Join first, then read the history: a message stored in between arrives twice at
        # worst, and the client drops the copy by its sequence number. Never zero times.
        self.conversation_id = conversation.id
        await self.join(conversation_group(conversation.id))
        welcome, history = await db.read(_visitor_snapshot, conversation.id, token, last_seq)
        self.sent.cover(max([welcome["last_seq"], *(m["seq"] for m in history["messages"])]))
        await self.send_event(welcome)
        await self.send_event(history)
        if "position" in welcome:
            # While it waits, this worker keeps the visitor's place current and says that
            # the visitor is still here (haven.chat.positions).
            positions.keeper().watch(
                str(conversation.id),
                self.channel_name,
                (
                    welcome["position"],
                    welcome.get("estimate_minutes"),
                    welcome.get("watched", True),
                ),
            )


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
        welcome["estimate_minutes"] = waits.estimate_minutes(
            welcome["position"], selectors.accepted_lately()
        )
        welcome["watched"] = selectors.queue_watched()
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
    endpoint, sender = "console", "counsellor"

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
        self.sent: defaultdict[str, SentNumbers] = defaultdict(SentNumbers)
        self.watch: asyncio.Task[None] | None = None
        self.presence: asyncio.Task[None] | None = None
        self.presence_id = uuid.uuid4()
        self.supervisor = False
        allowed = await db.read(_may_use_console, self.user, self.scope.get("session"))
        if not allowed:
            # Accept, then close with our code: a refused handshake reaches the browser as
            # 1006, and the console would keep retrying instead of stopping.
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await super().connect()
        # Join every group before reading the snapshot, so that no change committed between
        # the read and the join is missed (one committed before the read may come twice;
        # the console orders changes by seq).
        supervisor = await db.read(can, self.user, Action.READ_ANY_TRANSCRIPT)
        self.supervisor = supervisor
        await self.join(CONSOLE_GROUP)
        await self.join(counsellor_group(self.user.id))
        if supervisor:
            await self.join(SUPERVISOR_GROUP)
        hello = await db.read(_console_snapshot, self.user, supervisor=supervisor)
        for entry in hello["conversations"]:
            await self.join(conversation_group(entry["conversation"]))
        await self.send_event(hello)
        self.watch = asyncio.create_task(self._watch())
        self.presence = asyncio.create_task(self._say_present())

    async def disconnect(self, code: int) -> None:
        for task in (getattr(self, "watch", None), getattr(self, "presence", None)):
            if task is not None:
                task.cancel()
        if getattr(self, "presence", None) is not None:
            try:
                await db.write(services.console_gone, presence_id=self.presence_id)
            except Exception:
                logger.info("Could not record that a console closed; it fades out by itself")
        await super().disconnect(code)

    async def _say_present(self) -> None:
        """Say every heartbeat that this console is open, so that every worker knows the
        queue is watched (haven.chat.selectors.queue_watched)."""
        while True:
            try:
                await db.write(
                    services.console_present, presence_id=self.presence_id, user=self.user
                )
            except Exception as exc:  # the next heartbeat tries again
                if not outage.is_database_error(exc):
                    logger.warning("Could not record that a console is open", exc_info=True)
            await asyncio.sleep(settings.HAVEN_PRESENCE_HEARTBEAT_SECONDS)

    async def _watch(self) -> None:
        """Every RECHECK_SECONDS, check that this person may still be here: account active,
        role kept, not signed out everywhere, session not expired. If not, close (4403).

        The check does not renew the session: an idle console still expires."""
        session = self.scope.get("session")
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            if not await db.read(still_allowed, self.user, session):
                await self.close(code=CLOSE_FORBIDDEN)
                return

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Working in the console is activity: renew the session now and then, as a page
        # request would, so a counsellor chatting for an hour is not signed out.
        if time.monotonic() - self.renewed_at > RECHECK_SECONDS:
            self.renewed_at = time.monotonic()
            await db.read(_renew, self.scope.get("session"))
        await super().receive(text_data=text_data, bytes_data=bytes_data)

    async def on_open(self, frame: dict[str, Any]) -> None:
        allowed = await db.read(selectors.access_conversation, self.user, frame["conversation"])
        if allowed is None:
            raise services.NotFound(_("This conversation was not found."))
        # Join first, then read: a message stored in between arrives twice at worst (the
        # console drops the copy by its number), never zero times.
        group = conversation_group(frame["conversation"])
        await self.join(group)
        try:
            # A read with one audit entry: in a database thread, not in the writer, so a
            # long history never holds up everybody's messages.
            conversation, messages = await db.read(
                services.conversation_open,
                actor=self.user,
                conversation_id=frame["conversation"],
                last_seq=frame["last_seq"],
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
        self.sent[key].cover(max([conversation.last_seq, *(m["seq"] for m in messages)]))
        await self.send_event(history)
        # The notes to this socket only (the visitor shares the conversation's group).
        notes: NotesEvent = {"type": "notes", "conversation": key, "text": conversation.notes}
        await self.send_event(notes)
        # The team's notes, also to this socket only: whispers to its counsellor and to
        # supervisors; to a colleague reading a waiting conversation only the transfer
        # notes (meant for whoever takes it next), not the whispers of its earlier holder.
        whispers = self.supervisor or conversation.counsellor_id == self.user.id
        staff: StaffNotesEvent = {
            "type": "staff_notes",
            "conversation": key,
            "notes": await db.read(selectors.staff_notes, conversation, whispers=whispers),
        }
        await self.send_event(staff)

    async def on_urgent(self, frame: dict[str, Any]) -> None:
        await db.write(
            services.conversation_urgent_set,
            actor=self.user,
            conversation_id=frame["conversation"],
            urgent=frame["urgent"],
            lock=(Conversation, frame["conversation"]),
        )

    async def on_notes(self, frame: dict[str, Any]) -> None:
        await db.write(
            services.conversation_notes_save,
            actor=self.user,
            conversation_id=frame["conversation"],
            text=frame["text"],
        )

    async def on_whisper(self, frame: dict[str, Any]) -> None:
        # The counsellor's and the supervisors' consoles hear it (a "staff_note" event).
        await db.write(
            services.conversation_whisper,
            actor=self.user,
            conversation_id=frame["conversation"],
            text=frame["text"],
            lock=(Conversation, frame["conversation"]),
        )

    async def on_transfer(self, frame: dict[str, Any]) -> None:
        await db.write(
            services.conversation_transfer,
            actor=self.user,
            conversation_id=frame["conversation"],
            to_id=frame["to"] or None,
            note=frame["note"],
            lock=(Conversation, frame["conversation"]),
        )

    async def on_accept(self, frame: dict[str, Any]) -> None:
        await db.write(
            services.conversation_accept,
            conversation_id=frame["conversation"],
            counsellor=self.user,
            lock=(Conversation, frame["conversation"]),
        )

    async def on_send(self, frame: dict[str, Any]) -> None:
        request = services.MessageRequest(
            conversation_id=frame["conversation"],
            sender=Message.Sender.COUNSELLOR,
            text=frame["text"],
            client_id=frame["client_id"],
            author=self.user,
            language=self.lang,
        )
        stored = db.submit_batched(
            services.messages_send, request, lock=(Conversation, frame["conversation"])
        )
        self.acknowledge_later(frame, stored)

    async def on_typing(self, frame: dict[str, Any]) -> None:
        conversation = await db.read(
            selectors.access_conversation, self.user, frame["conversation"]
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
        await db.write(
            services.conversation_mark_read,
            conversation_id=frame["conversation"],
            counsellor=self.user,
            seq=frame["seq"],
            lock=(Conversation, frame["conversation"]),
        )

    async def on_end(self, frame: dict[str, Any]) -> None:
        await db.write(
            services.conversation_end,
            conversation_id=frame["conversation"],
            party=Conversation.Party.COUNSELLOR,
            actor=self.user,
            lock=(Conversation, frame["conversation"]),
        )

    async def on_availability(self, frame: dict[str, Any]) -> None:
        # Every console of this counsellor hears the result (an "availability" event).
        await db.write(
            services.counsellor_availability_set,
            user=self.user,
            available=frame["available"],
            max_chats=frame["max_chats"],
        )

    async def on_block(self, frame: dict[str, Any]) -> None:
        # The visitor's source may be known only to the worker the visitor is on.
        await abuse.refresh("conversation-source", str(frame["conversation"]))
        await db.write(
            services.conversation_block,
            conversation_id=frame["conversation"],
            actor=self.user,
            lock=(Conversation, frame["conversation"]),
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
            if owner is not None and owner != self.user.id and not self.supervisor:
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
            return  # for visitors only
        # As for the visitor: each number once, also when it comes late.
        if event["type"] == "message" and not self.sent[event["conversation"]].first_time(
            event["message"]["seq"]
        ):
            return
        await self.forward(message)


def _console_snapshot(user: Any, *, supervisor: bool) -> ConsoleHelloEvent:
    available, max_chats = selectors.availability_of(user)
    hello: ConsoleHelloEvent = {
        "type": "hello",
        "queue": selectors.waiting_queue(),
        "conversations": selectors.counsellor_conversations(user),
        "letters_awaiting": letter_selectors.awaiting_count(),
        "availability": {
            "type": "availability",
            "available": available,
            "max_chats": max_chats or 0,
        },
    }
    if supervisor:
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
