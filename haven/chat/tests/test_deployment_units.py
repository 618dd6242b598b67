"""docs/deployment.md's systemd units and environment file, taken from that file as it
stands: ``systemd-analyze verify`` accepts them, and their commands do what the guide says
when run as systemd runs them (only the environment file's variables, the working
directory, ``ExecStartPre``, ``ExecStart``, ``ExecStartPost``, SIGTERM to stop), in
production mode against a PostgreSQL and a Redis of the test's own.

systemd itself is not PID 1 where the tests run, so it cannot start the units; what it
would run is run here instead, with only the values an operator changes localised (paths,
the machine's address and port, the services' URLs).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from haven.chat.tests.browser.support import free_port
from haven.chat.tests.faults import ThrowawayPostgres, ThrowawayRedis, status_of, wait_for
from haven.conftest import skip_or_fail

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[3]
DEPLOYMENT = ROOT / "docs" / "deployment.md"
UNITS = (
    "haven.service",
    "haven-watchdog.service",
    "haven-watchdog.timer",
    "haven-purge.service",
    "haven-purge.timer",
)
ADDRESS = "127.0.0.2"  # the machine's internal address (10.0.0.11 in the guide)


def documented_units() -> dict[str, str]:
    """Every unit file of docs/deployment.md, by name."""
    text = DEPLOYMENT.read_text(encoding="utf-8")
    return dict(re.findall(r"<!-- systemd: (\S+) -->\n```ini\n(.*?)```", text, re.DOTALL))


def documented_env() -> str:
    text = DEPLOYMENT.read_text(encoding="utf-8")
    match = re.search(r"<!-- env: haven.env -->\n```\n(.*?)```", text, re.DOTALL)
    assert match, "docs/deployment.md has no marked haven.env block"
    return match.group(1)


def localised(unit: str, *, port: int, env_file: Path) -> str:
    """A unit with this machine's values: each replaced value must be in the guide."""
    haven = str(Path(sys.executable).with_name("haven"))
    replacements = {
        "/opt/haven/.venv/bin/haven": haven,
        "WorkingDirectory=/opt/haven": f"WorkingDirectory={ROOT}",
        "/etc/haven/haven.env": str(env_file),
        "10.0.0.11:8000": f"{ADDRESS}:{port}",
        "--host 10.0.0.11 --port 8000": f"--host {ADDRESS} --port {port}",
    }
    for old, new in replacements.items():
        if old in unit:
            unit = unit.replace(old, new)
    assert "/opt/haven" not in unit and "10.0.0.11" not in unit, unit
    return unit


def filled_env(*, database_url: str, redis_url: str, data_dir: Path) -> str:
    """The guide's haven.env with each ``<the output of: …>`` replaced by what that command
    prints, and the services' URLs and the data folder of this test."""
    haven = str(Path(sys.executable).with_name("haven"))

    def output_of(match: re.Match[str]) -> str:
        command = match.group(1).replace("/opt/haven/.venv/bin/haven", haven)
        # The guide's own command line, as an operator pastes it into a shell.
        return subprocess.run(  # noqa: S602
            command, shell=True, capture_output=True, text=True, check=True, timeout=60
        ).stdout.strip()

    lines = []
    for line in documented_env().splitlines():
        line = re.sub(r"<the output of: (.*)>", output_of, line)
        name = line.split("=", 1)[0]
        local = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "HAVEN_DATA_DIR": str(data_dir),
        }
        if name in local:
            line = f"{name}={local[name]}"
        assert "<" not in line, f"a value left to fill in: {line}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def service_section(unit: str) -> dict[str, list[str]]:
    """The [Service] section's settings (a key may repeat)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in unit.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def systemd_environment(env_file: Path, extra_path: str = "") -> dict[str, str]:
    """What systemd gives a service: the environment file's variables and a plain PATH."""
    env = {"PATH": f"{extra_path}/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    for line in env_file.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


def run(command: str, *, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        shlex.split(command), env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_the_guide_has_every_unit() -> None:
    """The units the guide tells an operator to enable are all written out in it."""
    assert set(documented_units()) == set(UNITS)


def test_the_units_run_as_systemd_would_run_them(tmp_path: Path) -> None:
    """verify accepts every unit; the workers start in production mode with the guide's
    environment file, count as started only once /healthz says ok, answer the probes on
    the internal address, stop on SIGTERM in time; the watchdog restarts nothing while they
    answer and restarts the service when they do not; the purge runs."""
    for program in ("systemd-analyze", "curl"):
        if shutil.which(program) is None:
            skip_or_fail(f"{program} is not installed")
    postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
    server: subprocess.Popen[bytes] | None = None
    try:
        postgres.start()
        redis.start()
        port = free_port(ADDRESS)
        env_file = tmp_path / "haven.env"
        env_file.write_text(
            filled_env(database_url=postgres.url, redis_url=redis.url, data_dir=tmp_path / "var")
        )
        units_dir = tmp_path / "units"
        units_dir.mkdir()
        units = {
            name: localised(unit, port=port, env_file=env_file)
            for name, unit in documented_units().items()
        }
        for name, unit in units.items():
            (units_dir / name).write_text(unit)
        checked = subprocess.run(
            ["systemd-analyze", "verify", *UNITS],
            cwd=units_dir, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "haven.service" not in checked.stderr, checked.stderr

        workers = service_section(units["haven.service"])
        env = systemd_environment(env_file)
        assert env["HAVEN_MODE"] == "production"
        for command in workers["ExecStartPre"]:
            result = run(command, env=env, timeout=120)
            assert result.returncode == 0, result.stdout + result.stderr
        log = (tmp_path / "workers.log").open("wb")
        server = subprocess.Popen(
            shlex.split(workers["ExecStart"][0]),
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        # ExecStartPost: returns (the unit counts as started) once the workers are ready.
        started = time.monotonic()
        for command in workers["ExecStartPost"]:
            result = run(command, env=env, timeout=90)
            assert result.returncode == 0, result.stderr + (tmp_path / "workers.log").read_text()
        assert time.monotonic() - started < 60
        base = f"http://{ADDRESS}:{port}"
        for probe in ("/healthz", "/livez", "/metrics"):
            assert status_of(base + probe) == 200, probe
        assert status_of(base + "/") == 400  # a page, on the internal address: not served

        # The watchdog: a fake systemctl records what it would be asked to do.
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        calls = tmp_path / "systemctl.calls"
        state = tmp_path / "systemctl.state"
        state.write_text("active")
        fake = bin_dir / "systemctl"
        fake.write_text(
            "#!/bin/sh\n"
            f'echo "$@" >> {calls}\n'
            f'if [ "$1" = is-active ]; then [ "$(cat {state})" = active ]; exit $?; fi\n'
        )
        fake.chmod(0o755)
        watchdog = service_section(units["haven-watchdog.service"])["ExecStart"][0]
        watchdog_env = systemd_environment(env_file, extra_path=f"{bin_dir}:")
        assert run(watchdog, env=watchdog_env, timeout=60).returncode == 0
        assert "restart" not in calls.read_text()

        purge = service_section(units["haven-purge.service"])
        result = run(purge["ExecStart"][0], env=systemd_environment(env_file), timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr

        # systemctl stop: SIGTERM, and the workers are gone within TimeoutStopSec.
        stop_within = float(workers["TimeoutStopSec"][0])
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=stop_within)
        server = None
        # Not answering while "active": the watchdog restarts the service ...
        assert run(watchdog, env=watchdog_env, timeout=60).returncode == 0
        assert "restart haven.service" in calls.read_text()
        # ... but leaves alone a service that is stopped or still starting.
        calls.write_text("")
        state.write_text("activating")
        assert run(watchdog, env=watchdog_env, timeout=60).returncode == 0
        assert "restart" not in calls.read_text()
        assert wait_for(lambda: status_of(base + "/livez") == 0, 5)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        redis.close()
        postgres.close()
