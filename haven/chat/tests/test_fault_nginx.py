"""docs/deployment.md's nginx configuration, as written there, in front of two workers on
two loopback addresses (as two machines would be) sharing a PostgreSQL and a Redis of the
test's own: a conversation through it with the visitor and the counsellor on different
workers, /metrics not passed from outside, and no address in nginx's log."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

from haven.chat.tests.browser.support import ServerProcess, free_port, server_environment
from haven.chat.tests.faults import ThrowawayPostgres, ThrowawayRedis
from haven.chat.tests.test_bench import load_bench
from haven.chat.tests.test_fault_redis import Reader, _until
from haven.conftest import skip_or_fail

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

DEPLOYMENT = Path(__file__).resolve().parents[3] / "docs" / "deployment.md"
HOSTS = ("127.0.0.2", "127.0.0.3")
PROXY = "127.0.0.1"


def documented_config() -> str:
    """The nginx block of docs/deployment.md, exactly as an operator copies it."""
    text = DEPLOYMENT.read_text(encoding="utf-8")
    match = re.search(r"<!-- nginx:[^>]*-->\n```nginx\n(.*?)```", text, re.DOTALL)
    assert match, "docs/deployment.md has no marked nginx block"
    return match.group(1)


def localised(config: str, *, upstreams: list[str], http: int, https: int, folder: Path) -> str:
    """The documented config with this machine's addresses, ports and files: only the
    values an operator would change, each of which must be found."""
    replacements = {
        "server 10.0.0.11:8000": f"server {upstreams[0]}",
        "server 10.0.0.12:8000": f"server {upstreams[1]}",
        "listen 80;": f"listen {PROXY}:{http};",
        "listen 443 ssl": f"listen {PROXY}:{https} ssl",
        "/etc/ssl/haven/fullchain.pem": str(folder / "cert.pem"),
        "/etc/ssl/haven/privkey.pem": str(folder / "key.pem"),
        "/var/log/nginx/haven-access.log": str(folder / "access.log"),
        "/var/log/nginx/haven-error.log": str(folder / "error.log"),
    }
    for old, new in replacements.items():
        assert old in config, f"{old!r} is no longer in docs/deployment.md's nginx block"
        config = config.replace(old, new)
    return config


def start_nginx(folder: Path, site: str) -> subprocess.Popen[bytes]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        skip_or_fail("nginx is not installed (Debian's package nginx)")
    assert nginx is not None
    (folder / "haven.conf").write_text(site)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"""{user}daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/haven.conf;
}}
"""
    )
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(folder / "key.pem"),
         "-out", str(folder / "cert.pem")],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    checked = subprocess.run(
        [nginx, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    return subprocess.Popen(
        [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "nginx-stderr.log").open("wb"),
    )


def _insecure() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own certificate
    return context


def _get(url: str) -> int:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=_insecure())
    )
    try:
        with opener.open(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def test_a_conversation_through_the_documented_nginx(tmp_path: Path) -> None:
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
        visitor = Reader(await websockets.connect(f"{wss}/visitor/", origin=front, ssl=_insecure()))
        await visitor.ws.send(json.dumps({"type": "start"}))
        conversation = (await visitor.first("welcome"))["conversation"]
        console = Reader(
            await websockets.connect(
                f"{wss}/console/",
                origin=front,
                ssl=_insecure(),
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
