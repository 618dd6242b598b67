"""The commands: ``haven purgetranscripts``, ``haven exportcases``, ``haven importcases``."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from haven.audit.models import AuditEntry
from haven.cases.models import Case
from haven.cases.tests.test_services import chat, code
from haven.chat.models import Message

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_purgetranscripts_prints_counts_only(clock, counsellor) -> None:
    """The job says how many transcripts and messages it deleted, and nothing else; the
    messages left for later go too."""
    from haven.letters.services import letter_leave

    conversation = chat(counsellor, text="synthetic words that must not be printed")
    letter_leave(text="synthetic letter that must not be printed", language="nl")
    clock.advance(days=31)
    out, _err = run("purgetranscripts")
    assert out.strip() == (
        "Transcripts deleted: 1 (3 messages). Abandoned conversations ended first: 0. "
        "Kept by a hold: 0. Messages left for later deleted: 1 (1 entries)."
    )
    assert "synthetic" not in out
    assert not Message.objects.filter(conversation=conversation).exists()
    out, _err = run("purgetranscripts")
    assert out.startswith("Transcripts deleted: 0 (0 messages).")


def test_purgetranscripts_takes_a_retention_period(clock, counsellor) -> None:
    """--retention-days overrides the setting for one run; it must be at least 1."""
    chat(counsellor)
    clock.advance(days=3)
    assert run("purgetranscripts", "--retention-days", "5")[0].startswith("Transcripts deleted: 0 ")
    assert run("purgetranscripts", "--retention-days", "2")[0].startswith("Transcripts deleted: 1 ")
    entry = AuditEntry.objects.filter(action="transcripts.purge").order_by("-id").first()
    assert entry is not None
    assert entry.detail["retention_days"] == 2
    with pytest.raises(CommandError):
        run("purgetranscripts", "--retention-days", "0")


@pytest.fixture
def supervisor(make_staff):  # type: ignore[no-untyped-def]
    return make_staff("sara", "supervisor")


def test_exportcases_writes_to_stdout_as_the_given_account(counsellor, make_staff) -> None:
    """The export goes to stdout and is audited as the account named with --as."""
    case = code(counsellor, chat(counsellor))
    analyst = make_staff("ali", "analyst")
    out, _err = run("exportcases", "--format", "json", "--as", "ali")
    assert [c["case_id"] for c in json.loads(out)["cases"]] == [str(case.id)]
    [entry] = AuditEntry.objects.filter(action="cases.export")
    assert entry.actor == analyst
    assert entry.detail == {"format": "json", "rows": 1}


def test_exportcases_writes_a_private_file(tmp_path: Path, counsellor, supervisor) -> None:
    """With --output the file is created readable by its owner only."""
    code(counsellor, chat(counsellor))
    target = tmp_path / "cases.csv"
    _out, err = run("exportcases", "--format", "csv", "--output", str(target), "--as", "sara")
    assert "Exported 1 cases" in err
    assert len(target.read_text(encoding="utf-8").splitlines()) == 2
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_exportcases_refuses_an_account_without_the_role(counsellor) -> None:
    """A counsellor may not export; an unknown account is named as such. No audit entry."""
    with pytest.raises(CommandError, match="may not export"):
        run("exportcases", "--format", "csv", "--as", "anna")
    with pytest.raises(CommandError, match="no active staff account"):
        run("exportcases", "--format", "csv", "--as", "nobody")
    assert not AuditEntry.objects.filter(action="cases.export").exists()


def test_importcases_imports_a_good_file(tmp_path: Path, counsellor, supervisor) -> None:
    """An exported file imports again (into an empty Haven), audited as the --as account."""
    code(counsellor, chat(counsellor))
    target = tmp_path / "cases.json"
    run("exportcases", "--format", "json", "--output", str(target), "--as", "sara")
    Case.objects.all().delete()
    out, _err = run("importcases", str(target), "--as", "sara")
    assert out.strip() == "Imported 1 cases from cases.json."
    assert Case.objects.get().imported
    [entry] = AuditEntry.objects.filter(action="cases.import")
    assert entry.actor == supervisor
    assert entry.detail["file"] == "cases.json"


def test_importcases_reports_each_problem_and_exits_1(
    tmp_path: Path, counsellor, supervisor
) -> None:
    """A bad file: every problem on stderr as "line N, column X: reason", exit status 1,
    nothing imported."""
    code(counsellor, chat(counsellor))
    good = tmp_path / "good.csv"
    run("exportcases", "--format", "csv", "--output", str(good), "--as", "sara")
    header, line = good.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "\n".join([header, line.replace(",girl,", ",gril,"), line.replace(",14,", ",140,")]),
        encoding="utf-8",
    )
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("importcases", str(bad), "--format", "csv", "--as", "sara", stderr=err)
    assert caught.value.returncode == 1
    assert "Nothing was imported" in str(caught.value)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("line 2, column case_id: A case with this id is already")
    assert lines[1].startswith("line 2, column gender: Not an option: gril.")
    assert lines[2].startswith("line 3, column case_id: The same case id is used earlier")
    assert lines[3].startswith("line 3, column case_id: A case with this id is already")
    assert lines[4].startswith("line 3, column age: Enter an age from")
    assert len(lines) == 5
    assert Case.objects.count() == 1
    assert not AuditEntry.objects.filter(action="cases.import").exists()


def test_importcases_needs_a_format_a_readable_file_and_a_supervisor(
    tmp_path: Path, counsellor, supervisor
) -> None:
    """The format comes from the extension unless given; a missing file and an account
    without the supervisor role are refused with a clear message."""
    odd = tmp_path / "cases.txt"
    odd.write_text("x", encoding="utf-8")
    with pytest.raises(CommandError, match="--format"):
        run("importcases", str(odd), "--as", "sara")
    with pytest.raises(CommandError, match="Cannot read"):
        run("importcases", str(tmp_path / "missing.csv"), "--as", "sara")
    with pytest.raises(CommandError, match="may not import"):
        run("importcases", str(odd), "--format", "csv", "--as", "anna")
