"""`haven report`: the yearly figures on the command line."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from haven.core import clock
from haven.estimation.selectors import report_estimate
from haven.feedback.selectors import feedback_figures
from haven.reports import render
from haven.reports.selectors import FIRST_YEAR, publishable, yearly_report


class Command(BaseCommand):
    help = (
        "Print the figures for a year (or a period) as JSON, CSV, PDF or HTML. Exact and "
        "confidential unless --public is given, which applies disclosure control."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="A calendar year, e.g. 2020.")
        parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument(
            "--to", dest="end", type=dt.date.fromisoformat, help="YYYY-MM-DD (inclusive)"
        )
        parser.add_argument(
            "--format", choices=("json", "csv", "pdf", "html"), default="json", dest="fmt"
        )
        parser.add_argument("--public", action="store_true", help="Protect small numbers.")
        parser.add_argument(
            "--threshold",
            type=int,
            default=None,
            help="Smallest count published with --public (default HAVEN_REPORT_THRESHOLD).",
        )
        parser.add_argument("--history", type=int, default=3, help="Earlier years beside it.")
        parser.add_argument("--language", choices=("nl", "en"), default="nl")
        parser.add_argument("--output", type=Path, help="Write here instead of to stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        year, start, end = options["year"], options["start"], options["end"]
        if year is not None and (start or end):
            raise CommandError("Give --year, or --from and --to, not both.")
        last_year = clock.now().year
        if year is not None:
            if not FIRST_YEAR <= year <= last_year:
                raise CommandError(f"--year must be from {FIRST_YEAR} to {last_year}.")
            start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        elif start and end:
            if end < start:
                raise CommandError("--to is before --from.")
            if start.year < FIRST_YEAR or end.year > last_year:
                raise CommandError(f"--from and --to must lie in {FIRST_YEAR} to {last_year}.")
            end = end + dt.timedelta(days=1)
        else:
            raise CommandError("Give --year, or --from and --to.")
        if options["public"] and not publishable(start, end, today=clock.now().date()):
            raise CommandError(
                "--public is for a whole year that has ended (--year), never another period: "
                "two public reports over overlapping periods could be subtracted from each "
                "other and give small numbers away (docs/reports.md, section 5)."
            )
        threshold = options["threshold"]
        if threshold is None:
            threshold = settings.HAVEN_REPORT_THRESHOLD
        if threshold < 2:
            raise CommandError("--threshold must be at least 2.")
        if not 0 <= options["history"] <= 20:
            raise CommandError("--history must be from 0 to 20.")
        with translation.override(options["language"]):
            report = yearly_report(
                start=start,
                end=end,
                public=options["public"],
                threshold=threshold,
                history=options["history"],
                generated_at=clock.now(),
            )
            # A calendar year's report shows the estimate attached to that year, if any.
            report.estimate = report_estimate(
                start=report.start, end=report.end, public=report.public, threshold=report.threshold
            )
            report.feedback = feedback_figures(
                start=report.start, end=report.end, public=report.public, threshold=report.threshold
            )
            fmt = options["fmt"]
            body: str | bytes
            if fmt == "json":
                body = render.to_json(report)
            elif fmt == "csv":
                body = render.to_csv(report)
            elif fmt == "html":
                body = render.to_html(report)
            else:
                body = render.to_pdf(report)
        output: Path | None = options["output"]
        if output is not None:
            if isinstance(body, bytes):
                output.write_bytes(body)
            else:
                output.write_text(body, encoding="utf-8")
            self.stderr.write(f"Wrote {output}")
        elif isinstance(body, bytes):
            sys.stdout.buffer.write(body)
        else:
            self.stdout.write(body, ending="")
