"""`haven estimate FILE.csv`: output formats, progress, and exit status on bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from haven.estimation.loglinear import TIMES

X = TIMES  # between the names of an interaction's lists
DATA = Path(__file__).parent / "data"
KOREA = str(DATA / "korea_3lists.csv")


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("estimate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_output() -> None:
    out, err = run(KOREA, "--format", "json", "--no-bootstrap")
    data = json.loads(out)
    assert round(data["total"], 2) == 268.78
    assert data["bootstrap"] is None
    assert data["model"]["words"]["text"] == f"main effects plus b{X}c"
    assert err == ""


def test_text_output_in_english() -> None:
    out, _err = run(KOREA, "--no-bootstrap")
    assert "Estimated total: 269" in out
    assert "about one in 2 victims is seen" in out
    assert f"main effects plus b{X}c" in out
    assert "stepwise (SparseMSE, threshold p = 0.02)" in out


def test_options_reach_the_estimate() -> None:
    out, _err = run(
        KOREA, "--format", "json", "--method", "bic", "--threshold", "0.01", "--level", "0.9",
        "--bootstrap", "15", "--seed", "3",
    )  # fmt: skip
    data = json.loads(out)
    assert data["method"] == "bic"
    assert data["threshold"] == 0.01
    assert data["level"] == 0.9
    assert data["bootstrap"]["replications"] == 15
    assert data["bootstrap"]["seed"] == 3


def test_bootstrap_progress_goes_to_stderr() -> None:
    """Not a terminal here: a line at every tenth, the last one saying it is complete."""
    out, err = run(KOREA, "--format", "json", "--bootstrap", "20", "--seed", "1")
    assert json.loads(out)["bootstrap"]["replications"] == 20
    lines = err.strip().splitlines()
    assert lines[-1] == "Bootstrap: 26 of 26"
    assert 2 <= len(lines) <= 11


def test_same_seed_same_interval() -> None:
    first = json.loads(run(KOREA, "--format", "json", "--bootstrap", "30")[0])
    second = json.loads(run(KOREA, "--format", "json", "--bootstrap", "30")[0])
    assert first["bootstrap"]["interval"] == second["bootstrap"]["interval"]


def test_bad_input_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B,count\n1,0,4\n1,0,5\n0,1,x\n")
    with pytest.raises(CommandError) as caught:
        run(str(bad))
    assert caught.value.returncode == 2
    message = str(caught.value)
    assert "Line 3: This pattern is already on line 2" in message
    assert "Line 4, column count: The count “x” is not a number." in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        run(str(tmp_path / "nothing.csv"))
    assert caught.value.returncode == 2
    assert "Cannot read" in str(caught.value)


def test_a_table_without_an_estimate_exits_3(tmp_path: Path) -> None:
    table = tmp_path / "apart.csv"
    table.write_text("A,B,count\n1,0,10\n0,1,12\n")
    with pytest.raises(CommandError) as caught:
        run(str(table), "--no-bootstrap")
    assert caught.value.returncode == 3
    assert str(caught.value).startswith("No estimate: The two lists have nobody in common")


def test_an_option_out_of_range_exits_2() -> None:
    with pytest.raises(CommandError) as caught:
        run(KOREA, "--threshold", "1.5")
    assert caught.value.returncode == 2


def test_the_shell_command_exits_2_on_bad_input(tmp_path: Path) -> None:
    """As a person runs it: status 2 and the line on stderr, nothing on stdout."""
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B,n\n1,0,4\n")
    env = {
        **os.environ,
        "HAVEN_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "haven.settings",
    }
    result = subprocess.run(
        [sys.executable, "-m", "haven.cli", "estimate", str(bad), "--no-bootstrap"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert "1" in result.stderr and "count" in result.stderr
