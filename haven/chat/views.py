"""HTTP pages: the visitor's single page and the counsellor's console."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.canned import selectors as canned_selectors
from haven.chat import selectors, services, waits
from haven.core import clock, db, metrics
from haven.core.health import readiness
from haven.core.i18n import language_switch
from haven.feedback import questions as feedback_questions
from haven.referrals import selectors as referral_selectors


@require_GET
def visitor_home(request: HttpRequest) -> HttpResponse:
    """The whole visitor experience on one page, so the browser history holds one entry.

    Starting a chat, waiting and talking happen on this page without navigating; the
    quick exit replaces that one entry, so the back button cannot lead back here.
    """
    now = clock.now()
    schedule = selectors.schedule()
    closed = not schedule.is_open(now)
    context = {
        "neutral_title": settings.HAVEN_NEUTRAL_TITLE,
        "other_language": language_switch(request),
        "closed_notice": services.closed_message(schedule.next_opening(now)) if closed else "",
        # Open, but no console of an available counsellor anywhere: said before the start.
        "nobody_online": not closed and not selectors.queue_watched(),
        "retention_days": settings.HAVEN_TRANSCRIPT_RETENTION_DAYS,
        "feedback_questions": [
            {
                "key": question.key,
                "text": _(question.text),
                "options": [{"code": code, "label": _(label)} for code, label in question.options],
            }
            for question in feedback_questions.QUESTIONS
        ],
        "client_config": {
            "quickExitUrl": settings.HAVEN_QUICK_EXIT_URL,
            "maxLength": settings.HAVEN_MAX_MESSAGE_LENGTH,
            "maxLetterLength": settings.HAVEN_MAX_LETTER_LENGTH,
            "feedbackUrl": reverse("feedback"),
            "letterUrls": {
                "leave": reverse("letter_leave"),
                "read": reverse("letter_read"),
                "add": reverse("letter_add"),
            },
            "language": get_language() or settings.LANGUAGE_CODE,
            "longWaitMinutes": waits.LONG_WAIT_MINUTES,
            "text": _visitor_texts(),
        },
    }
    return render(request, "chat/visitor.html", context)


@login_required
@require_GET
def console_home(request: HttpRequest) -> HttpResponse:
    """The console, for counsellors and supervisors (the staff middleware has already made
    sure the session passed the second factor)."""
    if not can(request.user, Action.USE_CONSOLE):
        # Analysts have no console: their work starts on the figures page.
        if can(request.user, Action.VIEW_FIGURES):
            return redirect("reports:page")
        refusal = {"can_export": can(request.user, Action.EXPORT_CASES)}
        return render(request, "chat/console_forbidden.html", refusal, status=403)
    context = {
        "other_language": language_switch(request),
        "time_zone": settings.TIME_ZONE,
        "chat_limits": range(1, services.MAX_CHATS_LIMIT + 1),
        "client_config": {
            "maxLength": settings.HAVEN_MAX_MESSAGE_LENGTH,
            "language": get_language() or settings.LANGUAGE_CODE,
            # Every time staff see is the helpline's, not the computer's.
            "timeZone": settings.TIME_ZONE,
            # Only to keep this person's notification choices apart in a shared browser.
            "userId": request.user.pk,
            # To tell the team's notes written here from those of colleagues.
            "userName": request.user.get_username(),
            "canned": canned_selectors.for_console(),
            "referrals": referral_selectors.for_console(),
            "text": _console_texts(),
        },
    }
    return render(request, "chat/console.html", context)


@login_required
@require_GET
def colleagues(request: HttpRequest) -> JsonResponse:
    """Colleagues a conversation could be transferred to now (the console's transfer
    form): those with a console open, whether they are available, how many chats they have."""
    if not can(request.user, Action.USE_CONSOLE):
        raise Http404
    return JsonResponse({"colleagues": selectors.transfer_candidates(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def danger_terms(request: HttpRequest) -> HttpResponse:
    """The team's danger words (supervisors): one word or phrase per line."""
    if not can(request.user, Action.MANAGE_DANGER_TERMS):
        raise Http404
    error = ""
    if request.method == "POST":
        lines = request.POST.get("terms", "").splitlines()
        try:
            services.danger_terms_save(actor=request.user, terms=lines)
        except services.MessageInvalid as exc:
            error = exc.message
        else:
            messages.success(request, _("The danger words are saved."))
            return redirect("console:danger_terms")
        text = request.POST.get("terms", "")
    else:
        text = "\n".join(selectors.danger_terms())
    return render(
        request,
        "chat/danger_terms.html",
        {"other_language": language_switch(request), "terms": text, "error": error},
    )


@require_GET
async def healthz(request: HttpRequest) -> HttpResponse:
    """Readiness, for the proxy, systemd and tests: 200 "ok" when this worker's database
    and channel layer both answer; 503 naming the part that does not, otherwise."""
    parts = await readiness()
    failing = [part for part, ok in parts.items() if not ok]
    if failing:
        text = "".join(f"{part}: unreachable\n" for part in failing)
        response = HttpResponse(text, status=503, content_type="text/plain")
        # Not one log line per probe (a proxy asks every few seconds): the outage itself is
        # logged once, by haven.core.outage. (Django's request logging skips a response so
        # marked.)
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    return HttpResponse("ok", content_type="text/plain")


@require_GET
async def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format: this worker's counts and durations, and the queue's figures
    read now (haven.core.metrics). Counts only; the proxy does not pass it from outside."""
    waiting, longest, live = await db.read(selectors.queue_figures)
    body = metrics.render(waiting=waiting, longest_wait=longest, live=live)
    return HttpResponse(body, content_type=metrics.CONTENT_TYPE)


@require_GET
async def livez(request: HttpRequest) -> HttpResponse:
    """Liveness: the worker's event loop answers (nothing else is asked, so that an outage
    of the database does not make systemd restart every worker)."""
    return HttpResponse("ok", content_type="text/plain")


def _visitor_texts() -> dict[str, str]:
    """Words the visitor's script shows, translated on the server (no inline script needed)."""
    return {
        "connecting": _("Connecting…"),
        "reconnecting": _("The connection dropped. We are trying again. Your messages are safe."),
        "position": _("You are number %(position)s in line. A counsellor will be with you soon."),
        "positionFirst": _("You are next. A counsellor will be with you soon."),
        # The same while nobody is online (no promise that someone comes soon).
        "positionPlain": _("You are number %(position)s in line."),
        "positionFirstPlain": _("You are first in line."),
        "writeAlready": _("You can already start writing. The counsellor will read it."),
        # The estimated wait (haven.chat.waits), after the place in line.
        "waitAbout": _("That takes about %(minutes)s minutes."),
        "waitHour": _("That may take more than an hour."),
        "active": _("You are now talking with a counsellor."),
        "typing": _("The counsellor is typing…"),
        "sending": _("Sending…"),
        "you": _("You"),
        "counsellor": _("Counsellor"),
        "joined": _("A counsellor has joined the chat."),
        # A transfer: the visitor hears only that someone else goes on with them.
        "transferred": _(
            "Another counsellor is now talking with you. They can read what you wrote."
        ),
        "requeued": _(
            "Your counsellor had to stop. You are waiting for someone else now. They can read "
            "what you wrote, so you do not have to tell it again."
        ),
        "endedByVisitor": _("You ended the chat."),
        "endedByCounsellor": _("The counsellor ended the chat."),
        # A waiting visitor whose connection was gone for minutes (haven.chat.positions).
        "endedAway": _(
            "You were away from the chat for a while, so it stopped. "
            "You can start a new chat at any time."
        ),
        "notFound": _("This chat can no longer be found. You can start a new chat."),
        "tooLong": _("Your message is too long. Make it shorter, or send it in parts."),
        "flood": _("Too many messages at once. Wait a moment. The chat will continue by itself."),
        "returned": _("Good that you are back. The counsellor can see that you chatted before."),
        "codeNotNow": _("That did not work just now. Try again in a moment."),
        "letterFailed": _(
            "That did not work just now. Your words are still here. Try again in a moment."
        ),
        "letterTooLong": _("Your message is too long. Make it shorter."),
        "codeNeeded": _("Type the four words of your code first."),
        "nobodyOnline": _("Nobody from our team is online right now."),
        "feedbackThanks": _("Thank you for your answers."),
        "feedbackChoose": _("Choose an answer first, or just leave it."),
        # The tab's title while the chat hides behind the shopping list ("someone is coming").
        "coverTitle": _("Shopping list"),
    }


def _console_texts() -> dict[str, str]:
    return {
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "connected": _("Connected"),
        "queueEmpty": _("No one is waiting."),
        # Minutes, counting on while the console is open; the clock time in the helpline's
        # time zone (the console says so).
        "waitingFor": _("waiting %(minutes)s min (since %(time)s)"),
        # Both forms, for the script to pick by count (Dutch and English share the rule n != 1).
        "messagesOne": ngettext("%(count)s message", "%(count)s messages", 1),
        "messagesMany": ngettext("%(count)s message", "%(count)s messages", 2),
        "read": _("Read along"),
        "accept": _("Accept"),
        "mineEmpty": _("You have no open conversations."),
        "conversation": _("Conversation %(short)s"),
        "visitor": _("Visitor"),
        "you": _("You"),
        "joined": _("You accepted the conversation."),
        "joinedColleague": _("A colleague accepted the conversation."),
        "ended": _("The conversation has ended."),
        "endedByVisitor": _("The visitor ended the conversation."),
        "endedByCounsellor": _("You ended the conversation."),
        # The quick exit: not an ordinary end. Someone may have come into the room.
        "leftQuickly": _(
            "The visitor left quickly (the quick exit). Someone may have come in. The "
            "conversation has ended."
        ),
        "taken": _("A colleague has accepted this conversation."),
        # Transfers and whispers (for the team only; the visitor never sees these).
        "transferredMessage": _("The conversation was transferred to a colleague."),
        "requeuedMessage": _("The conversation was put back in the queue."),
        "transferredAway": _("Conversation %(short)s is no longer yours: it was transferred."),
        "transferredToYou": _(
            "Conversation %(short)s was transferred to you. It is in your conversations."
        ),
        "transferredTo": _("%(name)s transferred the conversation to %(to)s"),
        "transferredToQueue": _("%(name)s put the conversation back in the queue"),
        "whisperBy": _("Whisper from %(name)s"),
        "whisperFrom": _("Whisper from %(name)s in conversation %(short)s."),
        "transferNoteFrom": _("%(name)s transferred conversation %(short)s, with a note."),
        "backToQueue": _("Back to the queue"),
        "referralPhone": _("Phone: %(phone)s"),
        "referralNone": _("No referral matches these words."),
        "referralInsert": _("Insert"),
        "colleagueAvailable": _("%(name)s (%(count)s chats)"),
        "colleagueAway": _("%(name)s (away or full)"),
        "typing": _("The visitor is typing…"),
        "sending": _("Sending…"),
        "unread": _("unread messages: %(count)s"),
        "waitingPreview": _("Still in the queue. Accept the conversation to reply."),
        "endConfirm": _("End this conversation? The visitor will see that it has ended."),
        "blockConfirm": _(
            "Block this conversation as abuse? It ends, and the same connection cannot start "
            "a new chat for a day. The visitor only sees that the chat has ended."
        ),
        "readOnly": _("You are reading along. Only the counsellor of this conversation writes."),
        # Read after the count ("Coding 1 still to code"): the link's name starts with the
        # words it shows, which is what a voice control user says to follow it.
        "codingStill": _("still to code"),
        "urgentShort": _("EMERGENCY"),
        # The team's danger words matched (haven.chat.danger): said as a hint, not a verdict.
        "dangerShort": _("danger words"),
        "dangerHint": _("Possible danger (danger words): a hint, read it yourself."),
        "urgentAlert": _("Emergency in conversation %(short)s (%(counsellor)s)."),
        "notesSaving": _("saving…"),
        "notesSaved": _("saved"),
        # After the count of messages left for later ("Messages left 2 waiting for an answer").
        "lettersWaiting": _("waiting for an answer"),
        # The visitor pressed "someone is coming": the chat is hidden on their screen.
        "covered": _(
            "The visitor has hidden the chat: someone is coming. The chat stays open. They "
            "can come back at any moment; what you write waits for them."
        ),
        "coveredShort": _("hidden"),
        "uncovered": _("The visitor is back in the chat."),
        "codeConversation": _("Code conversation %(short)s"),
        "returned": _("Returning visitor: the earlier coded record is on the coding page."),
        # In the lists, after the conversation's name and language.
        "returningShort": _("came back with a code"),
        "returnedWaiting": _(
            "Returning visitor: accept the conversation to see the earlier coded record."
        ),
    }
