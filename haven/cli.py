"""The ``haven`` command: Django's management commands, with ``haven serve`` among them."""

import os
import sqlite3
import sys
from pathlib import Path

# Commands that work without a migrated database (they make it, or do not touch it).
WITHOUT_DATABASE = frozenset(
    {
        "migrate",
        "help",
        "version",
        "generatekey",
        "makemigrations",
        "makemessages",
        "compilemessages",
        "check",
        "collectstatic",
        "test",
        # On a file only (docs/estimation.md); with --save it needs the database, and says so.
        "estimate",
    }
)


def embedded_database_problem(argv: list[str], environ: "os._Environ[str] | dict[str, str]") -> str:
    """Why a command cannot run on the embedded default's database, or "" when it can.

    Checked before Django starts, so that a command run from the wrong folder says where it
    looked instead of creating a new data folder there (new keys beside an empty database)
    and ending in a traceback. Only for the embedded default (SQLite in HAVEN_DATA_DIR);
    with DATABASE_URL the database is the operator's."""
    command = argv[1] if len(argv) > 1 else "help"
    if command.startswith("-") or command in WITHOUT_DATABASE:
        return ""
    if environ.get("DATABASE_URL") or environ.get("HAVEN_MODE", "").strip().lower() == "production":
        return ""
    # As haven.settings reads it (an empty value is the current folder there too).
    data_dir = Path(environ.get("HAVEN_DATA_DIR", Path.cwd() / "var")).resolve()
    database = data_dir / "haven.sqlite3"
    advice = (
        "Run it in the folder where Haven is installed (where `make run` made var/), or set "
        "HAVEN_DATA_DIR to that var/ folder, or create the database here with `haven migrate`."
    )
    if not database.exists():
        return f"There is no Haven database at {database}. {advice}"
    try:
        with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as connection:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()
    except sqlite3.Error as exc:
        return f"The Haven database at {database} cannot be read ({exc}). {advice}"
    if found is None:
        return f"The Haven database at {database} is not set up yet. Run `haven migrate` first."
    return ""


def main() -> None:
    problem = embedded_database_problem(sys.argv, os.environ)
    if problem:
        sys.stderr.write(problem + "\n")
        sys.exit(2)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
