"""``haven createstaff NAME --role ROLE …``: a staff account with a generated password."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.accounts.roles import Role
from haven.accounts.services import generate_password, staff_create


class Command(BaseCommand):
    help = (
        "Create a staff account with one or more roles and print its password (or read one "
        "from stdin). The person sets up two-step sign-in at their first sign-in."
    )
    default_roles: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            action="append",
            choices=[role.value for role in Role],
            default=None,
            help="A role (repeat for several).",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input instead of generating one.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Set a new password and roles on an existing account.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        roles = options["role"] or self.default_roles
        if not roles:
            raise CommandError("Give at least one --role.")
        generated = not options["password_stdin"]
        password = generate_password() if generated else sys.stdin.readline().rstrip("\n")
        try:
            staff_create(
                username=options["username"],
                password=password,
                roles=[Role(role) for role in roles],
                reset=options["reset"],
            )
        except (ValueError, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(messages)) from exc
        self.stdout.write(f"Account {options['username']!r} is ready ({', '.join(sorted(roles))}).")
        if generated:
            self.stdout.write(f"Password: {password}")
