"""``haven serve``: run Haven under uvicorn, with logging that never records an address."""

from __future__ import annotations

import os
import socket
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Serve Haven (HTTP and WebSockets) with uvicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on.")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Worker processes. More than one needs REDIS_URL (a shared channel layer).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        workers: int = options["workers"]
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError(
                "Several workers need a shared channel layer: set REDIS_URL, or use --workers 1."
            )
        host: str = options["host"]
        port: int = options["port"]
        shown_host = f"[{host}]" if ":" in host else host
        _check_free(host, port, shown_host)
        # Said by each worker once it has started (haven.core.lifespan), not before: a
        # server that then fails to start must not have said it runs. This is the server's
        # own address, not a visitor's.
        os.environ["HAVEN_SERVE_ANNOUNCE"] = (
            f"Haven is running at http://{shown_host}:{port}/ "
            f"(console: http://{shown_host}:{port}/console/). Stop with Ctrl+C."
        )
        uvicorn.run(
            "haven.asgi:application",
            host=host,
            port=port,
            workers=workers,
            log_config=settings.LOGGING,
            access_log=False,
            # Haven reads no forwarded address: there is nothing it may do with one.
            proxy_headers=False,
            server_header=False,
            # Each worker's background tasks (haven.core.lifespan).
            lifespan="on",
            ws_max_size=256 * 1024,
            # No compression of WebSocket frames: chat messages are short, a compressor and
            # decompressor would cost every connection tens of kilobytes, and compressing a
            # secret (the visitor's token) beside text an attacker chooses is how
            # compression side channels read secrets.
            ws_per_message_deflate=False,
        )


def _check_free(host: str, port: int, shown_host: str) -> None:
    """Refuse at once, naming the address, when something else listens there already
    (uvicorn would log a bind error whose address the log filter removes)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        probe = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise CommandError(
            f"Haven cannot listen at {shown_host}:{port}: {exc.strerror or exc}. Another "
            "program may be using that port: stop it, or choose another port with --port "
            "(make run PORT=8001)."
        ) from exc
    probe.close()
