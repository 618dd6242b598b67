"""Encryption at rest: message text is stored as Fernet tokens, never as plain text.

``settings.HAVEN_ENCRYPTION_KEYS`` lists Fernet keys, newest first. The first key encrypts
everything written; every key in the list can decrypt. Rotating is therefore: put a new key
in front, restart, run ``haven rotatekeys`` (which re-encrypts every row with the first key),
then remove the old key. Fernet authenticates as well as encrypts, so a token that was
altered, truncated or made with another key is refused rather than decrypted to garbage.

Nothing here ever puts a key, a token or a plaintext into an exception message or a log:
those messages end up in logs and error reports, which must not become a second copy of the
data this module protects.
"""

from __future__ import annotations

import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored value could not be decrypted with any key in HAVEN_ENCRYPTION_KEYS."""


_NOT_DECRYPTABLE = (
    "A stored message could not be decrypted: it was encrypted with a key that is not in "
    "HAVEN_ENCRYPTION_KEYS, or it is not an encrypted value at all (plain text written "
    "before encryption was enabled, or a damaged value). Add the missing key back to the end "
    "of HAVEN_ENCRYPTION_KEYS, or run `haven migrate` if the database predates encryption."
)


def generate_key() -> str:
    """A new random Fernet key, as text (URL-safe base64, 44 characters)."""
    return Fernet.generate_key().decode("ascii")


def check_keys() -> None:
    """Raise ImproperlyConfigured unless HAVEN_ENCRYPTION_KEYS holds usable Fernet keys."""
    _keyring()


def encrypt_text(text: str) -> str:
    """``text`` encrypted with the first (newest) configured key, as an ASCII token."""
    return _keyring().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    """The text inside ``token``, tried against every configured key.

    Raises :class:`DecryptionError` when no configured key opens it.
    """
    keyring = _keyring()
    try:
        return keyring.decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        # UnicodeError: a non-ASCII value cannot be a token (it is plain text).
        raise DecryptionError(_NOT_DECRYPTABLE) from None


def can_decrypt(token: str) -> bool:
    """Whether ``token`` is a Fernet token that one of the configured keys opens.

    Used to tell already-encrypted values from plain text written before encryption; a
    random string passing Fernet's HMAC check by accident is not a practical possibility.
    """
    try:
        decrypt_text(token)
    except DecryptionError:
        return False
    return True


def is_current(token: str) -> bool:
    """Whether ``token`` is already encrypted with the first (newest) configured key."""
    try:
        _primary().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rotate_token(token: str) -> str:
    """``token`` re-encrypted with the first configured key; the same token if it already is.

    Returning an unchanged token for current values is what makes ``haven rotatekeys``
    idempotent and cheap to run again: only rows under an older key are rewritten.
    Raises :class:`DecryptionError` when no configured key opens ``token``.
    """
    if is_current(token):
        return token
    try:
        return _keyring().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise DecryptionError(_NOT_DECRYPTABLE) from None


# --- the keys ------------------------------------------------------------------------------


def _configured_keys() -> tuple[str, ...]:
    # A tuple, so it can key the cache below: tests (pytest-django's ``settings`` fixture)
    # and a rotation change the setting at run time, and the next call must see the change.
    keys = tuple(settings.HAVEN_ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured(
            "HAVEN_ENCRYPTION_KEYS is empty: message text cannot be encrypted or read. Set it "
            "to one or more Fernet keys, newest first (make one with `haven generatekey`)."
        )
    return keys


@functools.lru_cache(maxsize=8)
def _build(keys: tuple[str, ...]) -> tuple[Fernet, MultiFernet]:
    # Building Fernet objects is cheap but not free, and this runs for every message read;
    # the cache holds only the last few key lists, so an old list does not linger for long.
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            # The position, never the key itself: the message may be logged.
            raise ImproperlyConfigured(
                f"Key number {position} in HAVEN_ENCRYPTION_KEYS is not a valid Fernet key "
                "(32 random bytes in URL-safe base64, 44 characters; make one with "
                "`haven generatekey`)."
            ) from None
    return fernets[0], MultiFernet(fernets)


def _keyring() -> MultiFernet:
    return _build(_configured_keys())[1]


def _primary() -> Fernet:
    return _build(_configured_keys())[0]


def secret_subkey(purpose: str) -> bytes:
    """A key for keyed hashes (HMAC) of one ``purpose`` ("return codes", "recovery codes"),
    derived from ``settings.SECRET_KEY``: each purpose its own key, and changing the secret
    key makes every such hash stop matching (said in the README)."""
    return hashlib.sha256(f"haven {purpose}\x00".encode() + settings.SECRET_KEY.encode()).digest()
