"""``haven createcounsellor NAME``: a new counsellor account, with a generated password."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.accounts.services import counsellor_create, generate_password


class Command(BaseCommand):
    help = "Create a counsellor account and print its password (or read one from stdin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input instead of generating one.",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Set a new password on an existing account."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        generated = not options["password_stdin"]
        password = generate_password() if generated else sys.stdin.readline().rstrip("\n")
        try:
            counsellor_create(
                username=options["username"], password=password, reset=options["reset"]
            )
        except (ValueError, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(messages)) from exc
        self.stdout.write(f"Counsellor {options['username']!r} is ready.")
        if generated:
            self.stdout.write(f"Password: {password}")
