"""Run only by tests/harness/test_databases.py: a test that fails, and one whose process dies,
each after making a database."""

from __future__ import annotations

import os
import signal

from tests.conftest import DatabaseFactory


def test_fails_after_making_a_database(databases: DatabaseFactory) -> None:
    databases.create(migrate=False)
    raise AssertionError("this probe fails on purpose")


def test_dies_after_making_a_database(databases: DatabaseFactory) -> None:
    if os.environ.get("PROBE_DIE") == "1":
        databases.create(migrate=False)
        os.kill(os.getpid(), signal.SIGKILL)
