"""The load benchmark keeps working: a short run of bench/chat_load.py against a real
``haven serve`` (embedded here; in the services run also production mode, with two workers
on PostgreSQL and Redis) and the bare relay. It asserts that nothing is lost or duplicated,
never a time: times belong in docs/performance.md, measured on a quiet machine."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "chat_load.py"


def load_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("chat_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chat_load"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def modes() -> list[str]:
    return ["embedded", "production"] if os.environ.get("DATABASE_URL") else ["embedded"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", modes())
def test_a_short_run_loses_and_duplicates_nothing(mode: str) -> None:
    """Three conversations, both sides writing twice a second for three seconds: every
    message sent is acknowledged and arrives once at the other side, on Haven and on the
    relay, with no error and no dropped connection."""
    bench = load_bench()
    argv = [
        "--mode",
        mode,
        "--conversations",
        "3",
        "--counsellors",
        "2",
        "--interval",
        "0.5",
        "--duration",
        "3",
        "--drain",
        "10",
    ]
    through_nginx = False
    if mode == "production":
        database = urlsplit(os.environ["DATABASE_URL"])
        argv += [
            "--database-url",
            urlunsplit(database._replace(path="/haven_bench_test")),
            "--redis-url",
            "redis://127.0.0.1:6379/15",
        ]
        # And through docs/deployment.md's nginx, where it is installed (make test does).
        from haven.chat.tests.nginx import nginx_binary

        through_nginx = nginx_binary() is not None
        if through_nginx:
            argv.append("--nginx")
    results = bench.run(bench.parse(argv))
    steady = results["steady"]
    expected = {"bare relay", "embedded" if mode == "embedded" else "production (2 workers)"}
    if mode == "production" and through_nginx:
        expected.add("production (2 workers) via nginx")
    assert set(steady) == expected
    for label, figures in steady.items():
        assert "failed" not in figures, (label, figures)
        assert figures["sent"] > 0, label
        assert figures["sent"] == figures["acked"] == figures["delivered"], (label, figures)
        assert (figures["lost"], figures["unacked"], figures["duplicates"]) == (0, 0, 0), label
        assert (figures["errors"], figures["connection_errors"]) == ({}, 0), (label, figures)
