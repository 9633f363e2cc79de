"""Deployment papercuts (issue 17, item 13): the bootstrap key's format in one line, a key
generator, and saved credentials that match however the local server is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.identity import credentials, keys
from api.settings import Settings

runner = CliRunner()


@pytest.mark.parametrize(
    ("saved", "asked"),
    [
        ("http://127.0.0.1:8000", "http://localhost:8000/"),
        ("http://localhost:8000/", "http://127.0.0.1:8000"),
        ("HTTP://LocalHost:8000", "http://[::1]:8000"),
        ("https://promptlane.example.com/", "https://promptlane.example.com:443"),
        ("http://10.0.0.5:8000/base/", "http://10.0.0.5:8000/base"),
    ],
)
def test_a_saved_key_is_found_however_the_server_is_written(
    tmp_path: Path, saved: str, asked: str
) -> None:
    path = tmp_path / "credentials.json"
    credentials.save(path, saved, "pl_" + "k" * 24)
    assert credentials.key_for(path, asked) == "pl_" + "k" * 24


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8001"),
        ("http://127.0.0.1:8000", "https://127.0.0.1:8000"),
        ("http://promptlane.example.com", "http://evil.example.com"),
    ],
)
def test_different_servers_keep_different_keys(tmp_path: Path, one: str, other: str) -> None:
    path = tmp_path / "credentials.json"
    credentials.save(path, one, "pl_" + "a" * 24)
    assert credentials.key_for(path, other) is None


def test_keys_generate_prints_a_key_the_server_accepts() -> None:
    first = runner.invoke(app, ["keys", "generate"])
    second = runner.invoke(app, ["keys", "generate"])
    assert first.exit_code == 0, first.output
    key = first.stdout.strip()
    assert keys.is_well_formed(key)
    assert key != second.stdout.strip()
    Settings(bootstrap_admin_key=key)  # accepted as PROMPTLANE_BOOTSTRAP_ADMIN_KEY


def test_a_malformed_bootstrap_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "PROMPTLANE_BOOTSTRAP_ADMIN_KEY": "not-a-key"}
    env["PROMPTLANE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'p.db'}"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("promptlane")), "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line == (
        "error: invalid settings: PROMPTLANE_BOOTSTRAP_ADMIN_KEY: must look like pl_ followed "
        "by 20 to 200 letters, digits, '-' or '_' (make one with `promptlane keys generate`)"
    )
    assert "not-a-key" not in result.stderr  # a secret, even a bad one, is not echoed
    assert not (tmp_path / "p.db").exists()  # refused before anything was done
