"""Hostile input at the wire, against a real ``haven serve``: what the in-process tests of
test_hostile_input.py cannot see, because it happens in uvicorn and shows in the log.

- A flood closed with 4429 while hundreds of its frames are still on their way: the closing
  socket answers nothing more, and nothing goes to the log (uvicorn raises, and logs a
  traceback, for any frame an application sends after its close).
- Text frames that are not valid UTF-8: each connection is closed with 1007 (uvicorn does
  that), and the log gets one short line for all of them, never a traceback per frame.

The server logs at INFO, as in production (not at DEBUG, as the browser tests run it).
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from collections.abc import Iterator

import pytest
import websockets

from haven.chat.tests.browser.support import HOST, ServerProcess, free_port, server_environment
from haven.chat.tests.faults import Reader

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(120)]

# What uvicorn and Python write when something goes wrong in a way the log should not show.
NOISE = re.compile(r"Traceback|Exception in ASGI application|Unexpected ASGI message|ERROR")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("wire")
    env = server_environment(folder / "data", None, None)
    env["HAVEN_LOG_LEVEL"] = "INFO"
    process = ServerProcess(
        data_dir=folder / "data", log_path=folder / "server.log", env=env, port=free_port()
    )
    process.manage("migrate", "--noinput")
    process.start(timeout=30)
    try:
        yield process
    finally:
        process.stop()


def _log_since(server: ServerProcess, offset: int) -> str:
    return server.log_text()[offset:]


async def _visitor(server: ServerProcess) -> tuple[Reader, dict]:  # type: ignore[type-arg]
    reader = Reader(
        await websockets.connect(
            f"ws://{HOST}:{server.port}/ws/visitor/", origin=server.base_url, max_queue=None
        )
    )
    await reader.ws.send(json.dumps({"type": "start"}))
    return reader, await reader.first("welcome")


async def test_a_flood_is_closed_and_nothing_is_answered_after_the_close(
    server: ServerProcess,
) -> None:
    """400 ``send`` frames written at once, with the default limits: the first are stored
    and acknowledged, then ``rate_limited``, then one ``flood`` and close 4429. After the
    close frame the server sends nothing (the client's frames still on their way are
    dropped), and the log holds no error and no traceback. Every acknowledged message is
    stored, and another visitor is served as normal throughout."""
    offset = len(server.log_text())
    calm, _ = await _visitor(server)
    flooder, welcome = await _visitor(server)
    frames = [
        json.dumps({"type": "send", "client_id": f"f{n}", "text": f"bericht {n}"})
        for n in range(400)
    ]
    for frame in frames:  # as fast as the socket takes them, without waiting for answers
        await flooder.ws.send(frame)
    await asyncio.wait_for(flooder.task, timeout=30)
    assert flooder.ws.close_code == 4429
    kinds = [f["type"] for f in flooder.frames]
    flood_at = kinds.index("error", kinds.index("welcome"))
    errors = [f for f in flooder.frames if f["type"] == "error"]
    assert errors[-1]["code"] == "flood"
    assert flooder.frames[-1] == errors[-1], "something was sent after the flood error"
    assert {e["code"] for e in errors[:-1]} <= {"rate_limited"}
    acked = flooder.acked()
    assert acked, kinds[flood_at:]

    await calm.ws.send(json.dumps({"type": "send", "client_id": "c1", "text": "hallo"}))
    assert (await calm.first("ack"))["client_id"] == "c1"

    again = Reader(
        await websockets.connect(f"ws://{HOST}:{server.port}/ws/visitor/", origin=server.base_url)
    )
    await again.ws.send(json.dumps({"type": "resume", "token": welcome["token"], "last_seq": 0}))
    history = await again.first("history")
    stored = {m["client_id"]: m["seq"] for m in history["messages"]}
    assert stored == acked
    for reader in (calm, again):
        await reader.ws.close()
    await asyncio.sleep(0.5)  # let the server write whatever it would write
    log = _log_since(server, offset)
    assert not NOISE.search(log), log


async def test_text_that_is_not_utf8_is_closed_1007_with_one_short_log_line(
    server: ServerProcess,
) -> None:
    """Twenty connections each send a text frame with bytes that are not UTF-8: each is
    closed with 1007. The log gets one short WARNING line for them (it is written at most
    once a minute, with the count), no ERROR and no traceback; /metrics counts all twenty."""
    offset = len(server.log_text())
    corpus = [b"\xff\xfe", b"\x80", b"\xc3\x28", b"\xed\xa0\x80", b'{"type":"send","text":"\xc0"}']
    for n in range(20):
        ws = await websockets.connect(
            f"ws://{HOST}:{server.port}/ws/visitor/", origin=server.base_url
        )
        await ws.send(corpus[n % len(corpus)], text=True)
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), timeout=10)
        assert ws.close_code == 1007
    # A calm visitor is served as normal.
    calm, _ = await _visitor(server)
    await calm.ws.send(json.dumps({"type": "send", "client_id": "c1", "text": "hallo"}))
    assert (await calm.first("ack"))["client_id"] == "c1"
    await calm.ws.close()
    await asyncio.sleep(0.5)
    log = _log_since(server, offset)
    assert not NOISE.search(log), log
    lines = [line for line in log.splitlines() if "UTF-8" in line]
    assert len(lines) == 1, log
    assert "WARNING" in lines[0] and "1007" in lines[0]
    assert len(lines[0]) < 200
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{server.base_url}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    assert re.search(r'haven_errors_total\{kind="invalid_utf8"\} 20\.0', metrics), metrics
