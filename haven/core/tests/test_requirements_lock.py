"""The lock files (requirements/runtime.txt and test.txt, made by ``make lock``) agree with
pyproject.toml, carry a hash for every file, and are what this environment runs on."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def pins(name: str) -> dict[str, str]:
    """Every ``package==version`` of a lock file, by canonical name; checks that each pin
    carries at least one sha256 hash (pip refuses the file otherwise, but say which)."""
    text = (ROOT / "requirements" / name).read_text()
    found: dict[str, str] = {}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    for block in blocks:
        match = PIN.match(block)
        if not match:
            continue
        assert "--hash=sha256:" in block, f"{match.group(1)} in {name} has no hash"
        found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    test = [Requirement(r) for r in project["optional-dependencies"]["test"]]
    return runtime, test


def applies(requirement: Requirement, extra: str = "") -> bool:
    if requirement.marker is None:
        return True
    environment = {**default_environment(), "extra": extra}
    return bool(requirement.marker.evaluate(environment))


def wanted(requirements: list[Requirement]) -> list[Requirement]:
    """The requirements with those their extras add (``uvicorn[standard]``), as the
    installed packages' metadata lists them."""
    out: list[Requirement] = []
    for requirement in requirements:
        if not applies(requirement):
            continue
        out.append(requirement)
        for extra in requirement.extras:
            for line in metadata.requires(requirement.name) or []:
                added = Requirement(line)
                if added.marker is not None and applies(added, extra) and not applies(added):
                    out.append(added)
    return out


@pytest.mark.parametrize(("lock", "which"), [("runtime.txt", "runtime"), ("test.txt", "test")])
def test_every_declared_dependency_is_locked_within_its_range(lock: str, which: str) -> None:
    """Each dependency of pyproject.toml (and of the extras it names) is pinned in the lock
    at a version its range allows: a range changed without `make lock` fails here."""
    runtime, test = declared()
    locked = pins(lock)
    requirements = wanted(runtime + (test if which == "test" else []))
    problems = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in locked:
            problems.append(f"{requirement} is not in requirements/{lock}")
        elif not requirement.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{requirement} does not allow the locked {locked[name]}")
    assert problems == [], "run `make lock`: " + "; ".join(problems)


def test_the_two_lock_files_agree() -> None:
    """The test lock is made under the runtime lock's versions: tests run what serves."""
    runtime, test = pins("runtime.txt"), pins("test.txt")
    assert {n: v for n, v in test.items() if n in runtime} == runtime


def test_this_environment_runs_the_locked_versions() -> None:
    """`make install-test` (and so `make test` and CI) installed exactly the test lock."""
    different = {}
    for name, version in pins("test.txt").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            different[name] = (version, None)
            continue
        if installed != version:
            different[name] = (version, installed)
    assert different == {}, f"locked and installed differ (locked, installed): {different}"


def test_the_lock_holds_what_the_oldest_supported_python_needs() -> None:
    """The lock is made on one Python, but `make run` uses whatever python3 the machine has
    (Debian 12: 3.11.2). Every requirement of a locked package that applies on any 3.11
    (checked at 3.11.0 and on this interpreter) must be locked too, else pip refuses the
    file with --require-hashes (redis needs async-timeout before 3.11.3)."""
    locked = pins("test.txt")
    oldest = {**default_environment(), "python_full_version": "3.11.0", "extra": ""}
    here = {**default_environment(), "extra": ""}
    missing = set()
    for name in locked:
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # reported by test_this_environment_runs_the_locked_versions
        for line in requirements:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is not None and not (marker.evaluate(oldest) or marker.evaluate(here)):
                continue
            if canonicalize_name(requirement.name) not in locked:
                missing.add(f"{requirement.name} (for {name})")
    assert missing == set(), f"run `make lock` on Python 3.11.0 to 3.11.2: {sorted(missing)}"


def test_redis_replies_are_parsed_in_c() -> None:
    """Every live event a worker receives from Redis goes through redis-py's reply parser;
    the installed set has hiredis, so that parser is the C one, not the pure-Python one
    (measured as a tenth of a worker's time under load, docs/performance.md)."""
    from redis._parsers import _AsyncHiredisParser
    from redis.asyncio.connection import DefaultParser

    assert DefaultParser is _AsyncHiredisParser
