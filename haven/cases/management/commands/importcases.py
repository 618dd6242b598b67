"""``haven importcases FILE``: coded cases from CSV or JSON, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.cases import exchange
from haven.cases.management.commands._staff import staff_account
from haven.cases.services import cases_import_file
from haven.chat.services import NotFound


class Command(BaseCommand):
    help = (
        "Import coded cases from a CSV or JSON file (format: docs/codebook.md). Every row is "
        "checked first; if any row is bad, each problem is printed as 'line N, column X: "
        "reason', nothing is imported and the exit status is 1. Acts as, and is audited as, "
        "the staff account given with --as, which must be a supervisor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--format",
            choices=exchange.FORMATS,
            default=None,
            help="csv or json (default: from the file name's extension).",
        )
        parser.add_argument(
            "--as", dest="as_user", required=True, metavar="USERNAME", help="The staff account."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = options["format"] or exchange.format_for(path.name)
        if fmt is None:
            raise CommandError("Say --format csv or --format json (the extension does not).")
        actor = staff_account(options["as_user"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            cases = cases_import_file(actor=actor, data=data, fmt=fmt, filename=path.name)
        except NotFound:
            raise CommandError(
                f"{options['as_user']!r} may not import cases (a supervisor may)."
            ) from None
        except exchange.ImportRefused as refused:
            for error in refused.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"Nothing was imported: {len(refused.errors)} problem(s) in {path.name}.",
                returncode=1,
            ) from None
        self.stdout.write(f"Imported {len(cases)} cases from {path.name}.")
