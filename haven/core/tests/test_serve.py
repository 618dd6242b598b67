"""``haven serve`` says where it runs only once it does, and names the address it cannot use."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from haven.chat.tests.browser.support import (
    HOST,
    ServerProcess,
    free_port,
    haven_command,
    server_environment,
)


def test_a_taken_port_is_named_and_nothing_claims_to_run(tmp_path: Path) -> None:
    """Something else listens on the port: the command ends at once with an error that
    says which address, and never says Haven is running."""
    env = server_environment(tmp_path / "data", None, None)
    ServerProcess(
        data_dir=tmp_path / "data", log_path=tmp_path / "serve.log", env=env, port=free_port()
    ).manage("migrate", "--noinput")
    with socket.create_server((HOST, 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*haven_command(), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert f"{HOST}:{port}" in result.stderr
    assert "--port" in result.stderr
    assert "Haven is running" not in result.stdout + result.stderr


def test_running_is_said_once_the_server_answers(tmp_path: Path) -> None:
    env = server_environment(tmp_path / "data", None, None)
    server = ServerProcess(
        data_dir=tmp_path / "data", log_path=tmp_path / "serve.log", env=env, port=free_port()
    )
    server.manage("migrate", "--noinput")
    server.start(timeout=30)
    try:
        lines = [line for line in server.log_text().splitlines() if "Haven is running" in line]
        assert lines == [
            f"Haven is running at http://{HOST}:{server.port}/ "
            f"(console: http://{HOST}:{server.port}/console/). Stop with Ctrl+C."
        ]
    finally:
        server.stop()


def test_a_command_run_where_there_is_no_database_says_where_it_looked(tmp_path: Path) -> None:
    """From a folder without Haven's data (the embedded default): a clear message naming
    the place, exit status 2, and no new data folder, keys or database left behind. After
    `haven migrate` there, the same command works; on a database made but not migrated it
    says so."""
    env = server_environment(tmp_path / "data", None, None)
    del env["HAVEN_DATA_DIR"]
    folder = tmp_path / "elsewhere"
    folder.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*haven_command(), *args], env=env, cwd=folder, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip

    refused = run("democode")
    assert refused.returncode == 2
    assert str(folder / "var" / "haven.sqlite3") in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (folder / "var").exists()
    (folder / "var").mkdir()
    (folder / "var" / "haven.sqlite3").touch()
    assert "not set up yet" in run("democounsellor").stderr
    (folder / "var" / "haven.sqlite3").unlink()
    assert run("migrate", "--noinput").returncode == 0
    made = run("democounsellor")
    assert made.returncode == 0, made.stderr
    assert run("democode").stdout.strip()
