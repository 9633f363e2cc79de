"""`promptlane webhooks` against a real server delivering to a real receiver."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from api.cli import app
from api.db import sync_url
from evals.connections.crypto import SecretBox
from evals.webhooks import signing
from tests.conftest import ADMIN_KEY, WRITER_KEY, DatabaseFactory
from tests.e2e.server import Server
from tests.evals.webhook_receiver import Inbox, receiver

pytestmark = pytest.mark.e2e
runner = CliRunner()


def cli(server: Server, *args: str, key: str = ADMIN_KEY) -> Any:
    return runner.invoke(app, ["webhooks", *args, "--url", server.url, "--api-key", key])


def wait_for(inbox: Inbox, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(inbox.processed) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_webhook_from_create_to_redelivery(server: Server) -> None:
    inbox = Inbox(secret="")
    with receiver(inbox) as hook_url:
        created = cli(server, "create", "cli-hook", hook_url, "--event", "*")
        assert created.exit_code == 0, created.output
        found = re.search(r"whsec_[A-Za-z0-9+/=]+", created.output)
        assert found is not None
        inbox.secret = found.group(0)
        shown = cli(server, "show", "cli-hook")
        assert shown.exit_code == 0
        assert "state: active" in shown.output
        assert inbox.secret not in shown.output
        assert inbox.secret not in cli(server, "list").output
        tested = cli(server, "test", "cli-hook", "--json")
        assert tested.exit_code == 0, tested.output
        delivery = json.loads(tested.output)
        wait_for(inbox, 1)
        assert list(inbox.processed) == [delivery["webhook_id"]]
        listed = cli(server, "deliveries", "cli-hook", "--json")
        assert json.loads(listed.output)["items"][0]["status"] == "delivered"
        again = cli(server, "redeliver", "cli-hook", str(delivery["id"]))
        assert again.exit_code == 0, again.output
        deadline = time.monotonic() + 20
        while not inbox.duplicates and time.monotonic() < deadline:
            time.sleep(0.05)
        assert inbox.duplicates == [delivery["webhook_id"]]
        detail = cli(server, "deliveries", "cli-hook", str(delivery["id"]))
        assert "(by hand)" in detail.output
        assert "last answer: 204 at " in cli(server, "show", "cli-hook").output
    paused = cli(server, "update", "cli-hook", "--pause")
    assert "paused: paused by" in paused.output
    assert "state: active" in cli(server, "resume", "cli-hook").output
    rotated = cli(server, "rotate-secret", "cli-hook")
    assert "shown only this once" in rotated.output
    assert cli(server, "delete", "cli-hook").exit_code == 0
    assert cli(server, "show", "cli-hook").exit_code == 1


def test_a_writer_key_is_refused_and_bad_input_explained(server: Server) -> None:
    refused = cli(server, "list", key=WRITER_KEY)
    assert refused.exit_code != 0
    no_event = cli(server, "create", "x", "https://h.test/")
    assert no_event.exit_code == 1
    assert "--event" in no_event.output
    bad_url = cli(server, "create", "x", "ftp://h.test/", "--event", "*")
    assert bad_url.exit_code == 1
    assert "http:// or https://" in bad_url.output


def test_rotate_secrets_reseals_webhook_secrets(databases: DatabaseFactory) -> None:
    url = databases.create()
    old, new = Fernet.generate_key(), Fernet.generate_key()
    secret = signing.new_secret()
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO webhook_endpoints (name, url, event_types, format, "
                    "secret_ciphertext, description, created_by, created_at, updated_by, "
                    "updated_at) VALUES ('h', 'https://h.test/', '[\"*\"]', 'standard', :sealed, "
                    "'', '', CURRENT_TIMESTAMP, '', CURRENT_TIMESTAMP)"
                ),
                {"sealed": SecretBox([old]).seal(secret)},
            )
        env = {"PROMPTLANE_SECRET_KEYS": f"{new.decode()},{old.decode()}"}
        result = runner.invoke(app, ["db", "rotate-secrets", "--database-url", url], env=env)
        assert result.exit_code == 0, result.output
        assert "and 1 webhook secret(s)" in result.output
        with engine.connect() as conn:
            sealed = conn.execute(sa.text("SELECT secret_ciphertext FROM webhook_endpoints"))
            assert SecretBox([new]).open(sealed.scalar_one()) == secret
        lost = runner.invoke(
            app,
            ["db", "rotate-secrets", "--database-url", url],
            env={"PROMPTLANE_SECRET_KEYS": Fernet.generate_key().decode()},
        )
        assert lost.exit_code == 1
        assert "secret of webhook(s): h" in lost.output
    finally:
        engine.dispose()
