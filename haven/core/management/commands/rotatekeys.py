"""``haven rotatekeys``: re-encrypt every stored message, and every authenticator's key,
with the newest key."""

from __future__ import annotations

from argparse import RawDescriptionHelpFormatter
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from haven.chat.models import Message
from haven.core import crypto

ROTATION_PROCEDURE = """\
Re-encrypt every stored message, and every authenticator app's key (two-step sign-in),
with the first key in HAVEN_ENCRYPTION_KEYS.

To rotate keys:
  1. `haven generatekey` and put the new key in FRONT of HAVEN_ENCRYPTION_KEYS, keeping the
     old key(s) after it (NEW,OLD).
  2. Restart every Haven process, so that all of them write with the new key and can still
     read the old one.
  3. Run `haven rotatekeys`. It works in batches, each in its own transaction; it can be run
     while Haven is serving, stopped, and run again (rows already under the new key are
     skipped).
  4. When it reports that every message is under the first key, remove the old key from
     HAVEN_ENCRYPTION_KEYS and restart again. Destroy the old key only after that (and after
     any database backup encrypted with it has expired).

If a message cannot be decrypted with any configured key, the command stops with an error
and changes nothing in that batch (earlier batches stay done): add the missing key to the
end of HAVEN_ENCRYPTION_KEYS and run it again.
"""


class Command(BaseCommand):
    help = ROTATION_PROCEDURE

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Keep the numbered steps of the help readable instead of reflowing them.
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Messages per transaction (default 500).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            # A bad key list (empty, or not Fernet keys) stops us before anything is read.
            crypto.check_keys()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None

        total = Message.objects.exclude(text="").count()
        checked = rewritten = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = _read_batch(last_pk, batch_size)
                if not rows:
                    break
                updates: list[tuple[str, int]] = []
                for pk, token in rows:
                    try:
                        rotated = crypto.rotate_token(token)
                    except crypto.DecryptionError:
                        # Raising inside the atomic block rolls this batch back, so the whole
                        # batch is left as it was; the message id says where, never the text.
                        raise CommandError(
                            f"Message {pk} cannot be decrypted with any key in "
                            "HAVEN_ENCRYPTION_KEYS: it was encrypted with a key that is not "
                            "configured (or it is not encrypted at all). Nothing in this batch "
                            f"was changed; {rewritten} messages before it were re-encrypted. "
                            "Add the missing key to the end of HAVEN_ENCRYPTION_KEYS and run "
                            "`haven rotatekeys` again."
                        ) from None
                    if rotated != token:
                        updates.append((rotated, pk))
                _write_batch(updates)
            checked += len(rows)
            rewritten += len(updates)
            last_pk = rows[-1][0]
            self.stdout.write(
                f"{checked} of about {total} messages checked, {rewritten} re-encrypted"
            )
        keys = _rotate_authenticators()
        self.stdout.write(f"{keys} authenticator keys re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {checked} messages are encrypted with the first key in "
                f"HAVEN_ENCRYPTION_KEYS ({rewritten} re-encrypted, "
                f"{checked - rewritten} already were)."
            )
        )


def _rotate_authenticators() -> int:
    """Re-encrypt each authenticator's sealed key with the first key; how many changed.
    (A few rows per staff member: one transaction. The column holds the token itself, so the
    ORM reads and writes it as it is.)"""
    from haven.accounts.models import SealedTOTPDevice

    changed = 0
    with transaction.atomic():
        for pk, token in SealedTOTPDevice.objects.order_by("pk").values_list("pk", "sealed_key"):
            try:
                rotated = crypto.rotate_token(token)
            except crypto.DecryptionError:
                raise CommandError(
                    f"The key of authenticator {pk} cannot be decrypted with any key in "
                    "HAVEN_ENCRYPTION_KEYS. No authenticator key was changed; add the "
                    "missing key to the end of HAVEN_ENCRYPTION_KEYS and run it again."
                ) from None
            if rotated != token:
                SealedTOTPDevice.objects.filter(pk=pk).update(sealed_key=rotated)
                changed += 1
    return changed


# Raw SQL, because the tokens themselves are what is rotated: through the ORM the field would
# decrypt on reading and encrypt on writing. Identifiers come from the model, quoted; every
# value is a query parameter.
def _names() -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    meta = Message._meta
    # Both are concrete columns, never None; the stubs type ``column`` loosely.
    pk_column = cast(str, meta.pk.column)
    text_column = cast(str, meta.get_field("text").column)
    return quote(meta.db_table), quote(pk_column), quote(text_column)


def _read_batch(after_pk: int, size: int) -> list[tuple[int, str]]:
    table, pk, text = _names()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {text} FROM {table} WHERE {pk} > %s AND {text} <> '' "  # noqa: S608
            f"ORDER BY {pk} LIMIT %s",
            [after_pk, size],
        )
        return list(cursor.fetchall())


def _write_batch(updates: list[tuple[str, int]]) -> None:
    if not updates:
        return
    table, pk, text = _names()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {text} = %s WHERE {pk} = %s",  # noqa: S608
            updates,
        )
