"""docs/deployment.md's nginx configuration, as written there, in front of two workers on
two loopback addresses (as two machines would be) sharing a PostgreSQL and a Redis of the
test's own: a conversation through it with the visitor and the counsellor on different
workers, /metrics and the probes not passed from outside, and no address in nginx's log."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

import pytest

from haven.chat.tests.browser.support import ServerProcess, free_port, server_environment
from haven.chat.tests.faults import (
    ThrowawayPostgres,
    ThrowawayRedis,
    accepted_conversation,
    counsellor_cookie,
    eventually,
    status_of,
    workers_on,
)
from haven.chat.tests.nginx import (
    PROXY,
    documented_config,
    insecure_tls,
    localised,
    nginx_binary,
    start_nginx,
)
from haven.conftest import skip_or_fail

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

HOSTS = ("127.0.0.2", "127.0.0.3")


async def test_a_conversation_through_the_documented_nginx(tmp_path: Path) -> None:
    if nginx_binary() is None:
        skip_or_fail("nginx is not installed (Debian's package nginx)")
    postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
    workers: list[ServerProcess] = []
    proxy: subprocess.Popen[bytes] | None = None
    folder = tmp_path / "nginx"
    folder.mkdir()
    try:
        postgres.start()
        redis.start()
        env = server_environment(tmp_path / "data", postgres.url, redis.url)
        env["HAVEN_ALLOWED_HOSTS"] = ",".join((*HOSTS, PROXY, "localhost"))
        workers = workers_on(HOSTS, folder=tmp_path, env=env)
        workers[0].manage("migrate", "--noinput")
        for worker in workers:
            worker.start(timeout=30)
        https = free_port(PROXY)
        site = localised(
            documented_config(),
            upstreams=[f"{w.host}:{w.port}" for w in workers],
            http=free_port(PROXY),
            https=https,
            folder=folder,
        )
        proxy = start_nginx(folder, site)
        front = f"https://{PROXY}:{https}"
        ready = await _answers(f"{front}/", 15)
        assert ready, (folder / "nginx-stderr.log").read_text()

        # Internal figures: on a worker's own address, never through the proxy.
        for internal in ("/metrics", "/healthz", "/livez"):
            assert await asyncio.to_thread(status_of, front + internal, insecure_tls()) == 404
            assert await asyncio.to_thread(status_of, workers[0].base_url + internal) == 200

        # The counsellor signs in (on a worker directly: sessions are in the database).
        cookie = await counsellor_cookie(workers[1])
        visitor, console, conversation = await accepted_conversation(
            f"wss://{PROXY}:{https}/ws", front, cookie, ssl=insecure_tls()
        )
        await visitor.ws.send(json.dumps({"type": "send", "client_id": "v1", "text": "hoi"}))
        await console.ws.send(
            json.dumps(
                {"type": "send", "conversation": conversation, "client_id": "c1", "text": "hallo"}
            )
        )
        assert await eventually(lambda: "v1" in console.texts("visitor"), 10)
        assert await eventually(lambda: "c1" in visitor.texts("counsellor"), 10)
        assert "v1" in visitor.acked()
        assert "c1" in console.acked()

        # least_conn sent the two sockets to different workers.
        socket_lines = [
            {kind for kind in ("visitor", "console") if f"/ws/{kind}/" in worker.log_text()}
            for worker in workers
        ]
        assert sorted(map(sorted, socket_lines)) == [["console"], ["visitor"]], socket_lines
        for reader in (visitor, console):
            await reader.ws.close()

        access = (folder / "access.log").read_text()
        assert "/ws/visitor/" in access and "/healthz" in access
        for where in (access, (folder / "error.log").read_text()):
            assert PROXY not in where and not re.search(r"\b\d+\.\d+\.\d+\.\d+\b", where)
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
        for worker in workers:
            worker.stop()
        redis.close()
        postgres.close()


async def _answers(url: str, timeout: float) -> bool:
    """Whether ``url`` (through the proxy) answers 200 within ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await asyncio.to_thread(status_of, url, insecure_tls()) == 200:
            return True
        await asyncio.sleep(0.3)
    return False
