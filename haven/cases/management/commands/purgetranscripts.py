"""``haven purgetranscripts``: delete the transcripts whose retention period has passed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.chat.services import transcripts_purge
from haven.letters.services import letters_purge


class Command(BaseCommand):
    help = (
        "Delete the messages of every conversation that ended more than the retention period "
        "ago (HAVEN_TRANSCRIPT_RETENTION_DAYS, default 30), unless a hold keeps it. "
        "Conversations left open are ended first, counting from their last message. The "
        "coded case and the conversation row stay. Messages left for later go the same "
        "number of days after their last entry. Safe to run as often as wanted; run it "
        "daily (see docs/codebook.md). Prints counts only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--retention-days",
            type=int,
            default=None,
            help="Days to keep a transcript after its conversation ended (default: the setting).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days: int | None = options["retention_days"]
        if days is not None and days < 1:
            raise CommandError("--retention-days must be at least 1.")
        result = transcripts_purge(retention_days=days)
        letters = letters_purge(retention_days=days)
        self.stdout.write(
            f"Transcripts deleted: {result.purged} ({result.messages} messages). "
            f"Abandoned conversations ended first: {result.closed}. "
            f"Kept by a hold: {result.held}. "
            f"Messages left for later deleted: {letters.letters} ({letters.entries} entries)."
        )
