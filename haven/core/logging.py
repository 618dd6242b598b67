"""Logging helpers that keep visitor addresses out of every log line."""

from __future__ import annotations

import logging
import re
import time

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


class QuietInvalidText(logging.Filter):
    """uvicorn's report of a text frame that is not valid UTF-8, made short and rare.

    uvicorn closes such a connection with 1007, as it should, but reports each one with
    ``logger.exception``: an ERROR line and a full traceback, so anyone could fill the log
    by sending bad frames. Here each one is counted (``haven_errors_total{kind=
    "invalid_utf8"}`` at /metrics) and the log gets one short line at most every
    ``every`` seconds per process, saying how many there were. Precondition: attached to
    the ``uvicorn.error`` logger, which is the one uvicorn reports them on.
    """

    MESSAGE = "Invalid UTF-8 sequence received from client."

    def __init__(self, every: float = 60.0) -> None:
        super().__init__()
        self.every = every
        self.unreported = 0
        self.reported_at: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != self.MESSAGE:
            return True
        from haven.core import metrics

        metrics.errors.labels("invalid_utf8").inc()
        self.unreported += 1
        now = time.monotonic()
        if self.reported_at is not None and now - self.reported_at < self.every:
            return False
        self.reported_at = now
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = "Closed %d connection(s) that sent text that was not UTF-8 (close 1007)"
        record.args = (self.unreported,)
        record.exc_info = record.exc_text = None
        record.stack_info = None
        self.unreported = 0
        return True
