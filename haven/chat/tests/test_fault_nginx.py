"""docs/deployment.md's nginx configuration, as written there, in front of two workers on
two loopback addresses (as two machines would be) sharing a PostgreSQL and a Redis of the
test's own: a conversation through it with the visitor and the counsellor on different
workers, /metrics not passed from outside, and no address in nginx's log."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

from haven.chat.tests.browser.support import ServerProcess, free_port, server_environment
from haven.chat.tests.faults import ThrowawayPostgres, ThrowawayRedis
from haven.chat.tests.nginx import (
    PROXY,
    documented_config,
    insecure_tls,
    localised,
    nginx_binary,
    start_nginx,
)
from haven.chat.tests.test_bench import load_bench
from haven.chat.tests.test_fault_redis import Reader, _until
from haven.conftest import skip_or_fail

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

HOSTS = ("127.0.0.2", "127.0.0.3")


def _get(url: str) -> int:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=insecure_tls())
    )
    try:
        with opener.open(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


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
        for n, host in enumerate(HOSTS):
            worker = ServerProcess(
                data_dir=tmp_path / "data",
                log_path=tmp_path / f"worker-{n}.log",
                env=env,
                port=free_port(host),
            )
            worker.host = host
            workers.append(worker)
        workers[0].manage("migrate", "--noinput")
        password = secrets.token_urlsafe(18)
        workers[0].manage(
            "createstaff", "anna", "--role", "counsellor", "--password-stdin", stdin=password
        )
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
        ready = await _until(lambda: _get_quietly(f"{front}/healthz") == 200, 15)
        assert ready, (folder / "nginx-stderr.log").read_text()

        # Internal figures: on a worker's own address, never through the proxy.
        assert await asyncio.to_thread(_get, f"{front}/metrics") == 404
        assert await asyncio.to_thread(_get, f"{workers[0].base_url}/metrics") == 200

        # The counsellor signs in (on a worker directly: sessions are in the database).
        bench = load_bench()
        bench.HOST = workers[1].host
        cookie = await asyncio.to_thread(bench.sign_in, workers[1].port, "anna", password)

        wss = f"wss://{PROXY}:{https}/ws"
        visitor = Reader(
            await websockets.connect(f"{wss}/visitor/", origin=front, ssl=insecure_tls())
        )
        await visitor.ws.send(json.dumps({"type": "start"}))
        conversation = (await visitor.first("welcome"))["conversation"]
        console = Reader(
            await websockets.connect(
                f"{wss}/console/",
                origin=front,
                ssl=insecure_tls(),
                additional_headers={"Cookie": f"sessionid={cookie}"},
            )
        )
        await console.first("hello")
        await console.ws.send(json.dumps({"type": "accept", "conversation": conversation}))
        await console.first("assigned")
        await console.ws.send(
            json.dumps({"type": "open", "conversation": conversation, "last_seq": 0})
        )
        await console.first("history")
        await visitor.ws.send(json.dumps({"type": "send", "client_id": "v1", "text": "hoi"}))
        await console.ws.send(
            json.dumps(
                {"type": "send", "conversation": conversation, "client_id": "c1", "text": "hallo"}
            )
        )
        assert await _until(lambda: "v1" in console.texts("visitor"), 10)
        assert await _until(lambda: "c1" in visitor.texts("counsellor"), 10)
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


def _get_quietly(url: str) -> int:
    try:
        return _get(url)
    except OSError:
        return 0
