"""`haven estimate FILE.csv`: how many victims no list sees (multiple systems estimation).

A thin layer over :func:`haven.estimation.mse.estimate`: it reads the file, prints the
estimate as text (translated; Dutch by default) or JSON, and shows the bootstrap's progress
on stderr. Exit status 2: the file or an option is wrong (the message names the line);
3: the table was read but no model can be used on it (the message says why).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from haven.estimation import bootstrap, render
from haven.estimation.mse import estimate
from haven.estimation.selection import METHODS, STEPWISE, THRESHOLD, NoModel
from haven.estimation.table import TableError, parse_csv

BAD_INPUT = 2
REFUSED = 3
# A capture table is a few kilobytes even with 12 lists; refuse anything far larger unread.
MAX_BYTES = 5 * 1024 * 1024


def localised_number(value: float) -> str:
    return number_format(round(value), decimal_pos=0, force_grouping=True)


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Set here, not as a class attribute, so that it is translated when shown.
        self.help = _(
            "Estimate how many victims are on none of the lists (multiple systems estimation) "
            "from a CSV table of capture patterns: one column per list (1 = on that list) and "
            "a count column. See docs/estimation.md."
        )
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("The CSV file with the capture table (- reads stdin)."))
        parser.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help=_("Text for people (default) or JSON for programs."),
        )
        parser.add_argument(
            "--method",
            choices=METHODS,
            default=STEPWISE,
            help=_("How the model is chosen (default: stepwise, as SparseMSE)."),
        )
        parser.add_argument(
            "--threshold",
            type=float,
            default=THRESHOLD,
            help=_("The stepwise method's p-value threshold (default 0.02)."),
        )
        parser.add_argument(
            "--max-order",
            type=int,
            default=2,
            help=_("AIC and BIC: the most lists an interaction may join (default 2: pairs)."),
        )
        parser.add_argument(
            "--bootstrap",
            type=int,
            default=bootstrap.REPLICATIONS,
            help=_("Bootstrap replications for the BCa interval (default 1000)."),
        )
        parser.add_argument(
            "--no-bootstrap",
            action="store_true",
            help=_("No bootstrap: only the interval from the model (fast)."),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=bootstrap.SEED,
            help=_("The bootstrap's random seed; the same seed gives the same interval."),
        )
        parser.add_argument(
            "--level",
            type=float,
            default=0.95,
            help=_("Confidence level of the intervals (default 0.95)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        table = self.read(options["file"])
        replications = 0 if options["no_bootstrap"] else options["bootstrap"]
        try:
            result = estimate(
                table,
                method=options["method"],
                threshold=options["threshold"],
                max_order=options["max_order"],
                bootstrap=replications,
                seed=options["seed"],
                level=options["level"],
                progress=self.progress if replications else None,
            )
        except NoModel as exc:
            raise CommandError(render.render_refusal(exc.message, _), returncode=REFUSED) from exc
        except ValueError as exc:
            raise CommandError(
                _("Invalid option: %(reason)s") % {"reason": exc}, returncode=BAD_INPUT
            ) from exc
        finally:
            self.end_progress()
        if options["format"] == "json":
            self.stdout.write(result.to_json(indent=2))
        else:
            self.stdout.write(render.render_text(result, _, localised_number), ending="")

    def read(self, name: str) -> Any:
        try:
            if name == "-":
                data: bytes = sys.stdin.buffer.read(MAX_BYTES + 1)
            else:
                with Path(name).open("rb") as handle:
                    data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(reason)s") % {"file": name, "reason": exc.strerror},
                returncode=BAD_INPUT,
            ) from exc
        if len(data) > MAX_BYTES:
            raise CommandError(
                _("%(file)s is larger than %(max)s MB; a capture table is far smaller.")
                % {"file": name, "max": MAX_BYTES // (1024 * 1024)},
                returncode=BAD_INPUT,
            )
        try:
            return parse_csv(data)
        except TableError as exc:
            lines = [render.render_problem(problem, _) for problem in exc.problems]
            heading = _("The table in %(file)s cannot be used:") % {"file": name}
            raise CommandError("\n".join([heading, *lines]), returncode=BAD_INPUT) from exc

    # --- progress on stderr: one line rewritten in a terminal, every tenth in a log

    _shown = -1

    def progress(self, done: int, total: int) -> None:
        text = _("Bootstrap: %(done)s of %(total)s") % {"done": done, "total": total}
        if self.stderr.isatty():
            self.stderr.write("\r" + text, ending="")
            self.stderr.flush()
            self._shown = done
        elif done == total or done * 10 // total != self._shown * 10 // total:
            self.stderr.write(text)
            self._shown = done

    def end_progress(self) -> None:
        if self._shown >= 0 and self.stderr.isatty():
            self.stderr.write("")
        self._shown = -1
