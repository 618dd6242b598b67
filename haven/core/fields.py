"""Model fields whose content is encrypted in the database (see :mod:`haven.core.crypto`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.db.models.lookups import Exact, IsNull

from haven.core import crypto


class _EmptyOnlyExact(Exact):
    """``field=""``: the one comparison that means something, because "" is stored as "".

    Any other value would be encrypted with a fresh random IV before the comparison and so
    would never match anything: such a filter would silently find nothing.
    """

    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise FieldError(_refusal(self.lhs, "exact"))
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Text that Python code sees as ``str`` and the database only ever as a Fernet token.

    An empty text is stored as "" (system messages have no text; a token for "" would only
    cost space and hide nothing, since the kind of the message already says it is empty).
    Every non-empty text is encrypted with the first key in HAVEN_ENCRYPTION_KEYS.

    The database cannot look inside the tokens, and the same text encrypts differently
    every time, so filtering on this field is meaningless. Rather than let such a filter
    quietly match nothing (a test asserting "no message contains X" would then always pass),
    every lookup except ``isnull`` and ``exact`` against "" raises :class:`FieldError`.
    Filter in Python on decrypted values instead. Ordering by the field sorts ciphertext,
    which is equally meaningless, but cannot be refused here: do not do it.
    """

    description = "Text, encrypted at rest"

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt_text(value)

    def to_python(self, value: Any) -> str | None:
        # Forms and deserialisation (loaddata) deal in plain text; only the database holds
        # tokens, and from_db_value has already decrypted anything that came from there.
        return super().to_python(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt_text(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return _EmptyOnlyExact
        raise FieldError(_refusal(self, lookup_name))

    def get_transform(self, lookup_name: str) -> Any:
        # Transforms (lower, unaccent, …) would run on ciphertext: there are none.
        return None


def _refusal(field_or_expression: Any, lookup_name: str) -> str:
    field = getattr(field_or_expression, "target", field_or_expression)
    name = getattr(field, "name", "this field")
    return (
        f"Cannot filter on the encrypted field {name!r} with {lookup_name!r}: the database "
        "holds only encrypted tokens, so the comparison would silently match nothing. Only "
        f"'{name}=\"\"' and '{name}__isnull' are allowed; filter decrypted values in Python."
    )
