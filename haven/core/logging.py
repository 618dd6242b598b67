"""Logging helpers that keep visitor addresses out of every log line."""

from __future__ import annotations

import logging
import re

# IPv4, and IPv6 written with at least two colon groups (so times like 12:30 stay).
_IPV4 = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"
_IPV6 = r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])"
ADDRESS_PATTERN = re.compile(f"{_IPV4}|{_IPV6}")
REDACTED = "[address removed]"


def redact_addresses(text: str) -> str:
    """Return ``text`` with everything shaped like an IP address replaced."""
    return ADDRESS_PATTERN.sub(REDACTED, text)


class RedactAddressesFilter(logging.Filter):
    """Rewrite a record so that neither its message nor its traceback holds an address.

    A last line of defence: Haven never logs addresses on purpose, but libraries might
    (uvicorn does, at INFO, for every WebSocket).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if _is_wire_trace(record):
            return False
        message = record.getMessage()
        cleaned = redact_addresses(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_addresses(record.exc_text)
        return True


def _is_wire_trace(record: logging.LogRecord) -> bool:
    """The websockets library's DEBUG trace of the wire ("< ..." in, "> ..." out): every
    frame with its text (messages, return codes) and every handshake header (cookies). It
    is dropped whole, at any level: nothing in it is worth keeping."""
    from_websockets = record.name == "uvicorn.error" or record.name.startswith("websockets")
    return from_websockets and isinstance(record.msg, str) and record.msg.startswith(("< ", "> "))
