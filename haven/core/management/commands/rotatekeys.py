"""``haven rotatekeys``: re-encrypt everything stored under HAVEN_ENCRYPTION_KEYS (message
text, notes, whispers, hold reasons, letters, authenticator keys) with the newest key."""

from __future__ import annotations

from argparse import RawDescriptionHelpFormatter
from dataclasses import dataclass
from typing import Any, cast

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction

from haven.chat.models import Message
from haven.core import crypto

ROTATION_PROCEDURE = """\
Re-encrypt everything stored encrypted (message text, conversation notes, whispers and
transfer notes, hold reasons, letters, and the authenticator apps' keys of two-step
sign-in) with the first key in HAVEN_ENCRYPTION_KEYS.

To rotate keys:
  1. `haven generatekey` and put the new key in FRONT of HAVEN_ENCRYPTION_KEYS, keeping the
     old key(s) after it (NEW,OLD).
  2. Restart every Haven process, so that all of them write with the new key and can still
     read the old one.
  3. Run `haven rotatekeys`. It works in batches, each in its own transaction; it can be run
     while Haven is serving, stopped, and run again (rows already under the new key are
     skipped).
  4. When it reports that everything is under the first key, remove the old key from
     HAVEN_ENCRYPTION_KEYS and restart again. Destroy the old key only after that (and after
     any database backup encrypted with it has expired).

If a value cannot be decrypted with any configured key, the command stops with an error
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
        for target in targets():
            self._rotate(target, batch_size)

    def _rotate(self, target: Target, batch_size: int) -> None:
        total = target.model._default_manager.exclude(**{target.field: ""}).count()
        checked = rewritten = 0
        last_pk: Any = None  # the first batch starts at the beginning (keys may be UUIDs)
        while True:
            with transaction.atomic():
                rows = _read_batch(target, last_pk, batch_size)
                if not rows:
                    break
                updates: list[tuple[str, Any]] = []
                for pk, token in rows:
                    try:
                        rotated = crypto.rotate_token(token)
                    except crypto.DecryptionError:
                        # Raising inside the atomic block rolls this batch back, so the whole
                        # batch is left as it was; the row id says where, never the text.
                        raise CommandError(
                            f"{target.row(pk)} cannot be decrypted with any key in "
                            "HAVEN_ENCRYPTION_KEYS: it was encrypted with a key that is not "
                            "configured (or it is not encrypted at all). Nothing in this batch "
                            f"was changed; {rewritten} {target.label} before it were "
                            "re-encrypted. Add the missing key to the end of "
                            "HAVEN_ENCRYPTION_KEYS and run `haven rotatekeys` again."
                        ) from None
                    if rotated != token:
                        updates.append((rotated, pk))
                _write_batch(target, updates)
            checked += len(rows)
            rewritten += len(updates)
            last_pk = rows[-1][0]
            self.stdout.write(
                f"{checked} of about {total} {target.label} checked, {rewritten} re-encrypted"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {checked} {target.label} are encrypted with the first key in "
                f"HAVEN_ENCRYPTION_KEYS ({rewritten} re-encrypted, "
                f"{checked - rewritten} already were)."
            )
        )


@dataclass(frozen=True)
class Target:
    """One column that holds Fernet tokens: an EncryptedTextField, or a sealed key."""

    model: type[models.Model]
    field: str
    label: str  # plural, for people: "messages"

    def row(self, pk: Any) -> str:
        """How an error names a row: "Message 12", "Conversation 3 (notes)"."""
        name = self.model._meta.object_name
        return f"{name} {pk}" if self.field == "text" else f"{name} {pk} ({self.field})"


def targets() -> list[Target]:
    """Every column the keys encrypt: each EncryptedTextField of every installed model
    (message text first), then the authenticator keys of two-step sign-in. Found from the
    models, so a new encrypted field is rotated without being listed here."""
    from haven.accounts.models import SealedTOTPDevice
    from haven.core.fields import EncryptedTextField

    found: list[Target] = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                label = (
                    "messages"
                    if model is Message
                    else f"{model._meta.app_label}.{model._meta.model_name}.{field.name} values"
                )
                found.append(Target(model, field.name, label))
    found.sort(key=lambda t: t.model is not Message)
    found.append(Target(SealedTOTPDevice, "sealed_key", "authenticator keys"))
    return found


# Raw SQL, because the tokens themselves are what is rotated: through the ORM the field would
# decrypt on reading and encrypt on writing. Identifiers come from the model, quoted; every
# value is a query parameter.
def _names(target: Target) -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    meta = target.model._meta
    # Both are concrete columns, never None; the stubs type ``column`` loosely.
    pk_column = cast(str, meta.pk.column)
    field = meta.get_field(target.field)
    assert isinstance(field, models.Field)  # a concrete column, not a relation
    column = cast(str, field.column)
    return quote(meta.db_table), quote(pk_column), quote(column)


def _read_batch(target: Target, after_pk: Any, size: int) -> list[tuple[Any, str]]:
    """The next ``size`` rows with a value, in key order after ``after_pk`` (None: from the
    start; keys are whole numbers or UUIDs, so there is no "before the first" value)."""
    table, pk, text = _names(target)
    after = "" if after_pk is None else f"{pk} > %s AND "
    parameters = ([] if after_pk is None else [after_pk]) + [size]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {text} FROM {table} WHERE {after}{text} <> '' "  # noqa: S608
            f"ORDER BY {pk} LIMIT %s",
            parameters,
        )
        return list(cursor.fetchall())


def _write_batch(target: Target, updates: list[tuple[str, Any]]) -> None:
    if not updates:
        return
    table, pk, text = _names(target)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {text} = %s WHERE {pk} = %s",  # noqa: S608
            updates,
        )
