"""No visitor address is kept anywhere: not in the server's log, not in its database."""

from __future__ import annotations

import pytest

from haven.chat.tests.browser.support import (
    VISITOR_ADDRESS,
    CounsellorUI,
    ServerProcess,
    VisitorUI,
    find_all,
    unique,
)

pytestmark = pytest.mark.browser

# How the visitor's address could be written: IPv4 loopback as the browser uses it, and
# IPv6 loopback in case anything ever resolved "localhost" that way.
ADDRESSES = (VISITOR_ADDRESS, "::1")


def test_no_visitor_address_in_log_or_database(
    visitor: VisitorUI, counsellor: CounsellorUI, server: ServerProcess
):
    """After a whole conversation (start, messages both ways, end) and a request that the
    server logs (a 404), neither the server's log (stdout and stderr, at DEBUG level) nor any
    table of its database nor any file in its data directory contains the visitor's
    address. The server's own address, 127.0.0.2, may appear. The messages themselves are
    on disk only encrypted."""
    first = unique("Niemand mag weten dat ik hier ben")
    visitor.start_chat()
    visitor.send(first)
    counsellor.accept(first)
    reply = unique("Wij zien niet wie je bent")
    counsellor.send(reply)
    visitor.expect_delivered(reply)
    answer = unique("Gelukkig")
    visitor.send(answer)
    counsellor.expect_message(answer)
    visitor.end_chat()
    counsellor.expect_ended()
    # A request the server logs, so request handling demonstrably reaches the log file.
    probe = "/" + unique("privacy-probe")
    assert visitor.page.request.get(server.base_url + probe).status == 404

    # The log is the real one, complete and at DEBUG level, so its silence means something.
    assert server.env["HAVEN_LOG_LEVEL"] == "DEBUG"
    log = server.log_text()
    assert log.strip(), "the server log is empty"
    assert f"{server.host}:{server.port}" in log, "the startup line is missing from the log"
    assert f"Not Found: {probe}" in log, "request logging did not reach the log file"
    # At DEBUG uvicorn logs every WebSocket with its peer address; the filter blanked it.
    assert "[address removed]" in log and "WebSocket /ws/visitor/" in log
    for address in ADDRESSES:
        assert not find_all(log, address), (address, find_all(log, address))

    dump = server.database_dump()
    # The dump is of the right database (the conversation's encrypted messages are in it:
    # Fernet tokens start with "gAAAAA"), and not one of its words is readable.
    assert dump.count("gAAAAA") >= 3
    for words in (first, reply, answer):
        assert words not in dump
    for address in ADDRESSES:
        assert not find_all(dump, address), (address, find_all(dump, address))

    # Nothing in the data directory either (SQLite's write-ahead log included).
    for path in server.data_files():
        content = path.read_bytes()
        for address in ADDRESSES:
            assert address.encode() not in content, (path, address)
        for words in (first, reply, answer):
            assert words.encode() not in content, (path, "plaintext message on disk")
