"""``haven democounsellor``: the demo login for a newcomer, in embedded mode only.

Two-step sign-in is required for every staff account, the demo one included. So that a
newcomer can try the console without setting up a phone, the demo account gets an
authenticator right away and ``haven democode`` prints its current code.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from haven.accounts.models import SealedTOTPDevice
from haven.accounts.roles import Role
from haven.accounts.services import generate_password, staff_create

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create (or reset) the demo counsellor and print its login. Not in production."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("There is no demo account in production mode.")
        password = generate_password()
        user = staff_create(
            username=DEMO_USERNAME,
            password=password,
            roles=[Role.COUNSELLOR, Role.SUPERVISOR, Role.ANALYST],
            reset=True,
        )
        SealedTOTPDevice.objects.filter(user=user).delete()
        SealedTOTPDevice.with_new_key(user=user, name="Demo authenticator", confirmed=True).save()
        _example_canned_responses(user)
        _example_referrals(user)
        _example_danger_terms(user)
        self.stdout.write("")
        self.stdout.write("  Demo counsellor login (new on every start):")
        self.stdout.write(f"    user name: {DEMO_USERNAME}")
        self.stdout.write(f"    password:  {password}")
        self.stdout.write("    second step: run `.venv/bin/haven democode` for the current code")
        self.stdout.write(
            "    roles: counsellor, supervisor and analyst (figures at /console/reports/)"
        )
        self.stdout.write("")


# Invented examples, so that "/" in the demo console shows something; the team writes its
# own (supervisors, at /console/canned/). Only where there are none yet.
EXAMPLES = [
    ("nl", "welkom", "Welkom", "Fijn dat je ons schrijft. Je hoeft je naam niet te zeggen. "
     "Vertel wat je wilt, in je eigen tempo."),
    ("en", "welcome", "Welcome", "Thank you for writing to us. You do not have to tell us your "
     "name. Tell us what you want, at your own pace."),
    ("nl", "gevaar", "In gevaar", "Ben je nu in gevaar? Bel dan 112. Dat is gratis."),
    ("en", "danger", "In danger", "Are you in danger right now? Then call 112. It is free."),
]  # fmt: skip


def _example_canned_responses(user: Any) -> None:
    from haven.canned.models import CannedResponse
    from haven.core import clock

    if CannedResponse.objects.exists():
        return
    for language, shortcut, title, text in EXAMPLES:
        CannedResponse.objects.create(
            language=language,
            shortcut=shortcut,
            title=title,
            text=text,
            updated_at=clock.now(),
            updated_by=user,
        )


# Invented organisations, so that the demo console's referral search shows something. They
# do not exist: names say "(voorbeeld)", addresses are example.org, numbers are not real.
# The team enters the real ones (supervisors, at /console/referrals/). Only where there are
# none yet.
REFERRALS = [
    ("Voorbeeld Jongerenlijn (voorbeeld)", "0800 000 0001", "https://jongeren.example.org/",
     "elke dag 14:00-20:00", "praten, school, thuis, vrienden, online chantage", "Nederland",
     "minors"),
    ("Voorbeeld Opvanghuis Noord (voorbeeld)", "050 000 0002", "https://opvang.example.org/",
     "dag en nacht", "veilig slapen, onderdak, weg van huis", "Groningen, Friesland, Drenthe",
     "all"),
    ("Voorbeeld Juridisch Loket (voorbeeld)", "0900 000 0003", "https://recht.example.org/",
     "werkdagen 9:00-17:00", "advocaat, aangifte, verblijfsvergunning, rechten", "Nederland",
     "adults"),
    ("Voorbeeld Zedenteam (voorbeeld)", "0900 000 0004", "https://zeden.example.org/",
     "werkdagen 8:00-18:00", "politie, aangifte doen, informeren", "Nederland", "all"),
]  # fmt: skip


def _example_referrals(user: Any) -> None:
    from haven.core import clock
    from haven.referrals.models import Referral

    if Referral.objects.exists():
        return
    for organisation, phone, website, hours, helps_with, region, audience in REFERRALS:
        Referral.objects.create(
            organisation=organisation,
            phone=phone,
            website=website,
            hours=hours,
            helps_with=helps_with,
            region=region,
            audience=audience,
            updated_at=clock.now(),
            updated_by=user,
        )


# A few words for the demo's danger list, so that a newcomer sees a waiting conversation
# raised. The team keeps its own list (supervisors, at /console/danger-words/).
DANGER_TERMS = ["in gevaar", "ik ben bang", "hij komt eraan", "in danger", "help me now"]


def _example_danger_terms(user: Any) -> None:
    from haven.chat.models import DangerTerm
    from haven.core import clock

    if DangerTerm.objects.exists():
        return
    for term in DANGER_TERMS:
        DangerTerm.objects.create(term=term, created_at=clock.now(), created_by=user)
