"""``haven democounsellor``: the demo login for a newcomer, in embedded mode only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from haven.accounts.services import counsellor_create, generate_password

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create (or reset) the demo counsellor and print its login. Not in production."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("There is no demo account in production mode.")
        password = generate_password()
        counsellor_create(username=DEMO_USERNAME, password=password, reset=True)
        self.stdout.write("")
        self.stdout.write("  Demo counsellor login (the password is new on every start):")
        self.stdout.write(f"    user name: {DEMO_USERNAME}")
        self.stdout.write(f"    password:  {password}")
        self.stdout.write("")
