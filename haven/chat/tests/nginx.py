"""docs/deployment.md's nginx configuration, run as written there, for the fault test and
for the load benchmark's ``--nginx`` (no pytest here: bench/chat_load.py imports it).

The only changes made to the documented block are the values an operator would change
(:func:`localised`): the workers' addresses, the ports, the certificate and log files.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
from pathlib import Path

DEPLOYMENT = Path(__file__).resolve().parents[3] / "docs" / "deployment.md"
PROXY = "127.0.0.1"


def nginx_binary() -> str | None:
    # Debian puts it in /usr/sbin, which is not on every user's PATH.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


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


def start_nginx(folder: Path, site: str, *, connections: int = 256) -> subprocess.Popen[bytes]:
    """Start nginx with ``site`` (a localised config) in ``folder``; its temporary files,
    logs and a self-signed certificate go there too. Precondition: nginx is installed."""
    nginx = nginx_binary()
    if nginx is None:
        raise RuntimeError("nginx is not installed (Debian's package nginx)")
    (folder / "haven.conf").write_text(site)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"""{user}daemon off;
worker_processes auto;
worker_rlimit_nofile {4 * connections};
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections {connections}; }}
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


def insecure_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own certificate
    return context
