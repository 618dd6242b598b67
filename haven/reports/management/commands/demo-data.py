"""`haven demo-data`: fill the database with invented coded cases for 2019-2022."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.cases.selectors import any_case_stored
from haven.reports import demo
from haven.reports.services import RealDataPresent, demo_data_load


class Command(BaseCommand):
    help = (
        "Fill the database with INVENTED coded cases for 2019-2022 (no conversations, no "
        "text), so the yearly report shows full figures at once. Refused in production "
        "mode and in a database that holds real cases."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2020, help="Same seed, same data.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only when the database holds no coded case at all; otherwise change nothing "
            "and exit 0 (what `make run` uses).",
        )

    def handle(self, *args: Any, seed: int, if_empty: bool, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo-data is refused in production mode: it invents cases.")
        if if_empty and any_case_stored():
            self.stdout.write("The database holds coded cases already: no invented cases added.")
            return
        try:
            stored = demo_data_load(cases=demo.generate(seed=seed))
        except RealDataPresent as exc:
            raise CommandError(str(exc)) from exc
        years = ", ".join(str(plan.year) for plan in demo.PLANS)
        self.stdout.write(
            f"Stored {stored} INVENTED coded cases ({years}). They are marked as synthetic; "
            "every report on them says that the figures are invented."
        )
