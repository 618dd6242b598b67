"""Yearly report timings: prints figures for docs/performance.md (not a test).

1. Generates invented coded cases with :func:`haven.reports.demo.scaled` (1,000,000 by
   default: 100,000 a year over 2017-2026, each with one contact) and stores them, then
   runs ANALYZE, as a database that has been in use for a while has statistics. Stored
   by :func:`raw_load` (the rows ``demo_data_load`` would write, sent with COPY on
   PostgreSQL and ``executemany`` on SQLite: minutes faster), or with ``--loader service``
   by :func:`haven.reports.services.demo_data_load` itself (Django's bulk_create).
2. Times the full yearly report, :func:`haven.reports.selectors.yearly_report` for 2024
   with three years of history (four aggregate queries, one per year, and the figures
   built from them), several runs, and prints the minimum and median with the headline
   figures, so a wrong answer cannot hide behind a fast one.

Each database runs in its own process (Django reads its settings once):

* SQLite in a temporary data directory (deleted afterwards);
* PostgreSQL in the database ``haven_bench`` on ``--postgres`` (default
  postgres://postgres@127.0.0.1:5432), created fresh and dropped afterwards.

Run: ``.venv/bin/python bench/report_bench.py`` (from the repository root). Options:
``--cases N``, ``--runs N``, ``--backend sqlite|postgres|both``, ``--loader raw|service``,
``--keep`` (keep the data and reuse it on the next run: for trying query shapes),
``--explain`` (print the query plan of one year).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATABASE = "haven_bench"
KEPT_SQLITE_DIR = Path(tempfile.gettempdir()) / "haven-report-bench"
YEAR = 2024
HISTORY = 3
TARGET_SECONDS = 2.0


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


# --- the worker: one database, in its own process -------------------------------------------


def raw_load(cases: Any, batch_size: int = 10_000) -> int:
    """Store invented cases as :func:`haven.reports.services.demo_data_load` does (the same
    columns and values, ``synthetic`` set), without Django's per-row overhead: COPY on
    PostgreSQL, ``executemany`` on SQLite. Precondition: no case is stored yet."""
    import uuid
    from itertools import islice

    from django.db import connection, transaction

    from haven.cases import codebook
    from haven.cases.codebook import Kind
    from haven.cases.models import Case, CaseContact, many_column
    from haven.core import clock

    case_columns = [str(field.column) for field in Case._meta.concrete_fields]
    contact_columns = ["case_id", "on"]
    postgres = connection.vendor == "postgresql"
    now = clock.now()

    def value(raw: Any) -> Any:
        """A Python value as the database driver takes it (SQLite has no UUID or dates)."""
        if postgres or raw is None or isinstance(raw, (bool, int, str)):
            return raw
        if isinstance(raw, uuid.UUID):
            return raw.hex
        if isinstance(raw, dt.datetime):
            return connection.ops.adapt_datetimefield_value(raw)
        return raw.isoformat()  # a date

    def rows(demo_case: Any, case_id: uuid.UUID) -> tuple[list[Any], list[list[Any]]]:
        first = min(demo_case.contacts)
        coded = min(dt.datetime.combine(first, dt.time(12), tzinfo=dt.UTC), now)
        columns: dict[str, Any] = {
            "id": case_id,
            "created_at": coded,
            "codebook_version": codebook.VERSION,
            "coded_at": coded,
            "coded_by_id": None,
            "reviewed_at": coded,
            "reviewed_by_id": None,
            "imported": False,
            "synthetic": True,
        }
        for question in codebook.QUESTIONS:
            answer = demo_case.record[question.name]
            if question.kind is Kind.MANY:
                for code in question.codes:
                    columns[many_column(question.name, code)] = code in answer
            else:
                columns[question.name] = answer
        case_row = [value(columns[column]) for column in case_columns]
        contact_rows = [[value(case_id), value(day)] for day in demo_case.contacts]
        return case_row, contact_rows

    def insert(table: str, columns: list[str], batch: list[list[Any]]) -> None:
        names = ", ".join(connection.ops.quote_name(column) for column in columns)
        with connection.cursor() as cursor:
            if postgres:
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                # Table and column names from the models; the values go as parameters.
                statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
                cursor.connection.executemany(statement, batch)

    stored = 0
    iterator = iter(cases)
    with transaction.atomic():
        while batch := list(islice(iterator, batch_size)):
            case_rows, contact_rows = [], []
            for demo_case in batch:
                case_row, contacts = rows(demo_case, uuid.uuid4())
                case_rows.append(case_row)
                contact_rows.extend(contacts)
            insert(Case._meta.db_table, case_columns, case_rows)
            insert(CaseContact._meta.db_table, contact_columns, contact_rows)
            stored += len(batch)
    return stored


def worker(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from haven.cases.models import Case, CaseContact
    from haven.reports import demo
    from haven.reports.selectors import period_counts, victims_in, yearly_report
    from haven.reports.services import demo_data_load

    vendor = connection.vendor
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(vendor, vendor)
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
    print(f"== {label} {version}")
    call_command("migrate", verbosity=0)

    existing = Case.objects.count()
    if existing == args.cases and args.keep:
        print(f"Reusing {existing:,} stored cases")
    else:
        start = time.perf_counter()
        if existing:
            # Left by an earlier --keep run with another number of cases (the benchmark's
            # databases hold nothing else).
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {CaseContact._meta.db_table}")  # noqa: S608
                cursor.execute(f"DELETE FROM {Case._meta.db_table}")  # noqa: S608
        cases = demo.scaled(args.cases, seed=1)
        if args.loader == "service":
            stored = demo_data_load(cases=cases, batch_size=5000)
        else:
            stored = raw_load(cases)
        took = time.perf_counter() - start
        print(
            f"Stored {stored:,} cases in {took:.0f} s ({stored / took:,.0f} cases/s, "
            f"{args.loader} loader)"
        )
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"ANALYZE: {time.perf_counter() - start:.1f} s")
    print(f"Cases: {Case.objects.count():,}; contacts: {CaseContact.objects.count():,}")

    first, end = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    if args.explain:
        sql, params = victims_in(first, end).query.sql_with_params()
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                # The plan of the row source only: the aggregate list is 130 columns long.
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            for row in cursor.fetchall():
                print("   ", " | ".join(str(cell) for cell in row))

    one_year = []
    for _ in range(args.runs):
        start = time.perf_counter()
        counts = period_counts(first, end)
        one_year.append(time.perf_counter() - start)
    times = []
    report: Any = None
    for _ in range(args.runs):
        start = time.perf_counter()
        report = yearly_report(start=first, end=end, public=True, threshold=10, history=HISTORY)
        times.append(time.perf_counter() - start)
    print(
        f"One year's counts (one query), {args.runs} runs: min {min(one_year):.3f} s, "
        f"median {statistics.median(one_year):.3f} s"
    )
    verdict = ""
    if vendor == "postgresql":  # the aim is set for PostgreSQL
        verdict = "under" if statistics.median(times) < TARGET_SECONDS else "OVER"
        verdict = f" ({verdict} the {TARGET_SECONDS:.0f} s aim)"
    print(
        f"Yearly report {YEAR} with {HISTORY} years of history (4 queries), {args.runs} runs: "
        f"min {min(times):.3f} s, median {statistics.median(times):.3f} s{verdict}"
    )
    history = ", ".join(
        f"{label} {'(hidden)' if count is None else f'{count:,}'}"
        for label, count in report.victims.history
    )
    n = {name: int(value or 0) for name, value in counts.items()}
    print(f"  victims {n['victims']:,} (before: {history})")
    known_gender = n["victims"] - n["gender:unknown"]
    social = report.figure("recruitment:social_media")
    print(
        f"  minors {n['age:minor']:,}, 15 or younger {n['age:up_to_15']:,}; youngest "
        f"{counts['age:youngest']}, oldest {counts['age:oldest']}; girls "
        f"{100 * n['gender:girl'] / known_gender:.1f}% of {known_gender:,} of known "
        f"gender; social media {social.current.percent:.1f}% "
        f"({', '.join(f'{v.label} {v.percent:.1f}%' for v in social.history)})"
    )


# --- the parent: one process per database -------------------------------------------------


def run_worker(args: argparse.Namespace, env: dict[str, str]) -> int:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--cases",
        str(args.cases),
        "--runs",
        str(args.runs),
        "--loader",
        args.loader,
    ]
    command += ["--keep"] if args.keep else []
    command += ["--explain"] if args.explain else []
    # This interpreter running this file: nothing in the command comes from outside.
    completed = subprocess.run(command, env={**os.environ, **env}, cwd=ROOT, check=False)  # noqa: S603
    return completed.returncode


def bench_sqlite(args: argparse.Namespace) -> int:
    if args.keep:
        KEPT_SQLITE_DIR.mkdir(exist_ok=True)
        data_dir = str(KEPT_SQLITE_DIR)
    else:
        data_dir = tempfile.mkdtemp(prefix="haven-report-bench-")
    try:
        env = {"HAVEN_DATA_DIR": data_dir, "DATABASE_URL": "", "REDIS_URL": ""}
        return run_worker(args, env)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def bench_postgres(args: argparse.Namespace) -> int:
    import psycopg

    server = args.postgres.rstrip("/")

    def admin(statement: str) -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(statement)

    data_dir = tempfile.mkdtemp(prefix="haven-report-bench-")
    try:
        if not args.keep:
            admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):
            admin(f"CREATE DATABASE {BENCH_DATABASE}")
        env = {
            "HAVEN_DATA_DIR": data_dir,
            "DATABASE_URL": f"{server}/{BENCH_DATABASE}",
            "REDIS_URL": "",
        }
        return run_worker(args, env)
    finally:
        if not args.keep:
            admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--loader", choices=("raw", "service"), default="raw")
    parser.add_argument("--keep", action="store_true", help="Keep the data for the next run.")
    parser.add_argument("--explain", action="store_true", help="Print the plan of one year.")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    print("Machine:", platform.machine(), f"{os.cpu_count()} cores,", cpu_model())
    print(f"Python {sys.version.split()[0]}")
    with contextlib.suppress(OSError):
        print("Load average:", ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{args.cases:,} invented coded cases; report {YEAR} with {HISTORY} years of history")
    print()
    failed = 0
    if args.backend in ("sqlite", "both"):
        failed |= bench_sqlite(args)
        print()
    if args.backend in ("postgres", "both"):
        failed |= bench_postgres(args)
    sys.exit(failed)


if __name__ == "__main__":
    main()
