"""Nothing that identifies a visitor is kept: addresses are stripped, redacted from logs."""

from __future__ import annotations

import logging

import pytest

from haven.core.asgi_privacy import StripClientAddress, strip_identifying_scope
from haven.core.logging import RedactAddressesFilter, redact_addresses


def test_scope_loses_the_client_address_and_identifying_headers() -> None:
    scope = {
        "type": "http",
        "client": ("203.0.113.7", 51234),
        "headers": [
            (b"host", b"haven.example"),
            (b"X-Forwarded-For", b"198.51.100.1"),
            (b"x-real-ip", b"198.51.100.2"),
            (b"forwarded", b"for=198.51.100.3"),
            (b"user-agent", b"Phone 1.0"),
            (b"accept-language", b"nl"),
        ],
    }
    cleaned = strip_identifying_scope(scope)
    assert cleaned["client"] is None
    assert cleaned["headers"] == [(b"host", b"haven.example"), (b"accept-language", b"nl")]
    assert scope["client"] == ("203.0.113.7", 51234), "the original scope is not changed"


@pytest.mark.asyncio
async def test_the_wrapped_app_never_sees_the_address() -> None:
    seen = {}

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        seen.update(scope)

    await StripClientAddress(app)(
        {"type": "websocket", "client": ("192.0.2.1", 1), "headers": []},
        None,
        None,  # type: ignore[arg-type]
    )
    assert seen["client"] is None


@pytest.mark.parametrize(
    "text",
    [
        '127.0.0.1:51234 - "WebSocket /ws/visitor/" [accepted]',
        "from 2001:db8::1 port 5",
        "client ::1 connected",
        "peer ::ffff:192.0.2.1",
        "fe80::1ff:fe23:4567:890a%eth0 said hi",
    ],
)
def test_redaction_removes_ip_addresses(text: str) -> None:
    cleaned = redact_addresses(text)
    for address in ("127.0.0.1", "2001:db8::1", "::1", "192.0.2.1", "fe80::1ff:fe23:4567:890a"):
        assert address not in cleaned


@pytest.mark.parametrize(
    "text", ["at 12:30 the chat started", "version 5.2 of Django", "seq 1.2.3"]
)
def test_redaction_leaves_ordinary_text(text: str) -> None:
    assert redact_addresses(text) == text


def test_log_filter_rewrites_messages_arguments_and_tracebacks() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s"',
        ("10.1.2.3:5555", "/ws/"),
        None,
    )
    try:
        raise ValueError("bad peer 10.1.2.3")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactAddressesFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert "10.1.2.3" not in formatted
    assert "WebSocket /ws/" in formatted


def test_every_configured_handler_redacts(settings) -> None:  # type: ignore[no-untyped-def]
    """The logging configuration puts the redacting filter on every handler."""
    for handler in settings.LOGGING["handlers"].values():
        assert "redact" in handler["filters"]
    assert settings.LOGGING["loggers"]["uvicorn.access"]["handlers"] == []
