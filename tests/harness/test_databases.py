"""The test harness drops every PostgreSQL database it makes: after a failing test, and (on the
next run) after a run that was killed before its teardown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import (
    BACKEND,
    POSTGRES_URL,
    TEST_DATABASE_PREFIX,
    _libpq,
    orphaned_test_databases,
    sweep_orphaned_databases,
)

ROOT = Path(__file__).resolve().parents[2]
PROBE = "tests/harness/probe_failing_database.py"
postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL databases only")


def test_orphans_are_databases_of_dead_runs_and_unnamed_legacy_ones() -> None:
    names = [
        f"{TEST_DATABASE_PREFIX}111_0123456789ab",  # run 111 is gone
        f"{TEST_DATABASE_PREFIX}222_0123456789ab",  # run 222 is alive
        f"{TEST_DATABASE_PREFIX}0123456789abcdef",  # made before names carried a pid
        f"{TEST_DATABASE_PREFIX}333_0123456789ab\n",  # not a name this harness makes
        "promptlane_prod",
    ]
    assert orphaned_test_databases(names, alive=lambda pid: pid == 222) == [
        names[0],
        names[2],
    ]


def _test_databases_of(pid: int) -> list[str]:
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            (f"{TEST_DATABASE_PREFIX}{pid}\\_%",),
        ).fetchall()
    return [row[0] for row in rows]


def _run_probe(test: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{PROBE}::{test}"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@postgres_only
def test_a_failing_test_leaves_no_database_behind() -> None:
    seen_before = set(_all_test_databases())
    result = _run_probe("test_fails_after_making_a_database")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "this probe fails on purpose" in result.stdout
    assert set(_all_test_databases()) <= seen_before


@postgres_only
def test_a_killed_run_is_swept_by_the_next() -> None:
    result = _run_probe("test_dies_after_making_a_database", PROBE_DIE="1")
    assert result.returncode == -9, result.stdout + result.stderr
    left = [name for name in _all_test_databases() if name not in _alive_names()]
    assert left, "the killed run left its database (nothing to sweep: the probe did not run?)"
    swept = sweep_orphaned_databases()
    assert set(left) <= set(swept)
    assert not set(left) & set(_all_test_databases())


def _all_test_databases() -> list[str]:
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (TEST_DATABASE_PREFIX + "%",)
        ).fetchall()
    return [row[0] for row in rows]


def _alive_names() -> set[str]:
    return set(_test_databases_of(os.getpid()))
