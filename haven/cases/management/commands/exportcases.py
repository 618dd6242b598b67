"""``haven exportcases``: the anonymous coded cases as CSV or JSON."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.cases import exchange
from haven.cases.management.commands._staff import staff_account
from haven.cases.services import cases_export
from haven.chat.services import NotFound


class Command(BaseCommand):
    help = (
        "Write every coded case as CSV or JSON (format: docs/codebook.md): codes, contact "
        "months and case ids only, never a transcript. Acts as, and is audited as, the staff "
        "account given with --as, which must be a supervisor or an analyst."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=exchange.FORMATS, required=True)
        parser.add_argument(
            "--output",
            default="-",
            help="The file to write (created readable by its owner only); default: stdout.",
        )
        parser.add_argument(
            "--as", dest="as_user", required=True, metavar="USERNAME", help="The staff account."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = staff_account(options["as_user"])
        try:
            export = cases_export(actor=actor, fmt=options["format"])
        except NotFound:
            raise CommandError(
                f"{options['as_user']!r} may not export cases (a supervisor or analyst may)."
            ) from None
        output: str = options["output"]
        if output == "-":
            for chunk in export:
                self.stdout.write(chunk, ending="")
            self.stdout.flush()
            return
        # The cases are anonymous, but a file of them is still nobody else's business.
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8", newline="") as file:
            for chunk in export:
                file.write(chunk)
        self.stderr.write(f"Exported {export.rows} cases to {output}.")
