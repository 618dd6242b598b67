"""``haven generatekey``: print a new key for HAVEN_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from haven.core.crypto import generate_key


class Command(BaseCommand):
    help = (
        "Print a new random Fernet key for HAVEN_ENCRYPTION_KEYS. Nothing is stored: keep the "
        "key somewhere safe, since messages encrypted with it cannot be read without it. "
        "See `haven rotatekeys --help` for putting a new key into use."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(generate_key())
