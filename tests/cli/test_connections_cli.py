"""`promptlane connections` against a real server: keys go in through stdin and never come out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from api.cli import app
from api.db import sync_url
from evals.connections.crypto import SecretBox
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
runner = CliRunner()
SECRET = "sk-cli-secret-0123456789"
PLANTED = "sk-planted-in-a-legacy-version"


def cli(server: Server, *args: str, stdin: str | None = None) -> Any:
    return runner.invoke(app, [*args, "--url", server.url, "--api-key", ADMIN_KEY], input=stdin)


def test_a_key_goes_in_through_stdin_and_never_comes_out(server: Server) -> None:
    created = cli(
        server,
        *("connections", "create", "cli-conn", "--provider", "openai"),
        *("--api-base", "http://127.0.0.1:9/v1", "--api-key-stdin"),
        *("--gateway-model", "cli-model", "--description", "from the CLI"),
        stdin=SECRET + "\n",
    )
    assert created.exit_code == 0, created.output
    assert "key: stored (encrypted)" in created.output
    outputs = [created.output]
    for args in (
        ("list",),
        ("list", "--json"),
        ("show", "cli-conn"),
        ("show", "cli-conn", "--json"),
    ):
        result = cli(server, "connections", *args)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    shown = json.loads(outputs[-1])
    assert (shown["has_api_key"], shown["gateway_models"]) == (True, ["cli-model"])
    assert all(SECRET not in out for out in outputs)

    moved = cli(server, "connections", "update", "cli-conn", "--api-key-env", "OPENAI_API_KEY")
    assert moved.exit_code == 0, moved.output
    assert "$OPENAI_API_KEY on the server" in moved.output
    removed = cli(server, "connections", "update", "cli-conn", "--remove-api-key", "--json")
    assert json.loads(removed.output)["api_key_env"] is None
    assert cli(server, "connections", "delete", "cli-conn").exit_code == 0
    missing = cli(server, "connections", "show", "cli-conn")
    assert missing.exit_code == 1
    assert "404" in missing.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("create", "x", "--provider", "openai", "--api-key-stdin"), "\n", "no API key"),
        (
            ("create", "x", "--provider", "openai", "--api-key-stdin", "--api-key-env", "A"),
            SECRET,
            "not both",
        ),
        (("update", "x"), None, "nothing to change"),
        (("create", "x", "--provider", "openai", "--api-key-env", "HOME"), None, "not an allowed"),
        (("create", "x", "--provider", "openai", "--api-base", "file:///etc"), None, "http"),
    ],
)
def test_bad_commands_fail_with_one_line(
    server: Server, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = cli(server, "connections", *args, stdin=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert SECRET not in result.output


def test_a_snapshot_never_holds_a_key_planted_in_old_content(server: Server) -> None:
    """A version stored before connections (free-form `extra`) is snapshotted without its key."""
    engine = sa.create_engine(sync_url(server.env["PROMPTLANE_DATABASE_URL"]), poolclass=NullPool)
    now = datetime.now(UTC)
    config = {"model": "openai/gpt-4o-mini", "extra": {"api_key": PLANTED, "seed": 1}}
    try:
        with engine.begin() as conn:
            prompt_id = conn.execute(
                sa.text(
                    "INSERT INTO prompts (name, description, created_at, updated_at) "
                    "VALUES ('legacy/snap', '', :now, :now) RETURNING id"
                ),
                {"now": now},
            ).scalar_one()
            version_id = conn.execute(
                sa.text(
                    "INSERT INTO prompt_versions (prompt_id, version, kind, template, "
                    "template_format, variables, config, message, author, content_hash, "
                    "created_at) VALUES (:p, 1, 'text', 'hi', 'mustache', '[]', :config, '', "
                    "'', :hash, :now) RETURNING id"
                ),
                {"p": prompt_id, "config": json.dumps(config), "hash": "0" * 64, "now": now},
            ).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO labels (prompt_id, name, version_id, updated_by, updated_at) "
                    "VALUES (:p, 'production', :v, '', :now)"
                ),
                {"p": prompt_id, "v": version_id, "now": now},
            )
    finally:
        engine.dispose()
    result = cli(server, "prompts", "snapshot", "--label", "production")
    assert result.exit_code == 0, result.output
    snapshot = json.loads(result.output)
    [entry] = [p for p in snapshot["prompts"] if p["name"] == "legacy/snap"]
    assert entry["version"]["config"] == {"model": "openai/gpt-4o-mini", "extra": {"seed": 1}}
    assert PLANTED not in result.output


def test_rotate_secrets_reseals_every_key_under_the_first(databases: DatabaseFactory) -> None:
    url = databases.create()
    old, new = Fernet.generate_key(), Fernet.generate_key()
    now = datetime.now(UTC)
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for name, sealed in (("a", SecretBox([old]).seal(SECRET)), ("b", None)):
                conn.execute(
                    sa.text(
                        "INSERT INTO connections (name, provider, api_key_ciphertext, "
                        "gateway_models, description, created_by, created_at, updated_by, "
                        "updated_at) "
                        "VALUES (:name, 'openai', :sealed, '[]', '', '', :now, '', :now)"
                    ),
                    {"name": name, "sealed": sealed, "now": now},
                )
        env = {"PROMPTLANE_SECRET_KEYS": f"{new.decode()},{old.decode()}"}
        result = runner.invoke(app, ["db", "rotate-secrets", "--database-url", url], env=env)
        assert result.exit_code == 0, result.output
        assert "re-encrypted 1 connection key(s)" in result.output
        with engine.connect() as conn:
            sealed = conn.execute(
                sa.text("SELECT api_key_ciphertext FROM connections WHERE name = 'a'")
            ).scalar_one()
        assert SecretBox([new]).open(sealed) == SECRET
        lost = runner.invoke(
            app,
            ["db", "rotate-secrets", "--database-url", url],
            env={"PROMPTLANE_SECRET_KEYS": Fernet.generate_key().decode()},
        )
        assert lost.exit_code == 1
        assert "no configured secret key decrypts the key of: a" in lost.output
    finally:
        engine.dispose()
