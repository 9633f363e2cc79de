"""Bad input to every writing endpoint gets a 4xx problem and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.db import Database
from api.models import metadata
from prompts.policy import Role
from tests.conftest import auth
from tests.factories import chat_body

MONITOR = {
    "name": "nightly",
    "prompt": "seed/p",
    "label": "production",
    "trigger": "schedule",
    "cron": "0 * * * *",
}
SIGNAL = {"metric": "error_rate", "op": ">", "threshold": 0.5, "window_seconds": 3600}
BAD_REQUESTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("POST", "/v1/prompts", {"json": {"name": "seed/p"}}, 409),
    ("POST", "/v1/prompts", {"json": {"name": "UPPER"}}, 422),
    ("POST", "/v1/prompts", {"json": {"name": "x", "tags": "not-a-list"}}, 422),
    (
        "POST",
        "/v1/prompts",
        {"content": b"[]", "headers": {"content-type": "application/json"}},
        422,
    ),
    ("PATCH", "/v1/prompts/seed/p", {"json": {"tags": ["bad tag!"]}}, 422),
    ("PATCH", "/v1/prompts/seed/p", {"json": {"name": "rename"}}, 422),
    ("PATCH", "/v1/prompts/missing", {"json": {"description": "x"}}, 404),
    ("POST", "/v1/prompts/seed/p/versions", {"json": {"template": "{{#a}}"}}, 422),
    (
        "POST",
        "/v1/prompts/seed/p/versions",
        {"json": {"template": "x", "config": {"seed": "s"}}},
        422,
    ),
    (
        "POST",
        "/v1/prompts/seed/p/versions",
        {
            "json": {
                "messages": [{"role": "user", "content": "{{ x.__class__ }}"}],
                "template_format": "jinja2",
            }
        },
        422,
    ),
    ("POST", "/v1/prompts/new/p/versions", {"json": {"template": "{{> evil}}"}}, 422),
    ("POST", "/v1/prompts/new/p/versions", {"json": {}}, 422),
    ("PUT", "/v1/prompts/seed/p/labels/staging", {"json": {"version": 99}}, 404),
    ("PUT", "/v1/prompts/seed/p/labels/staging", {"json": {"version": 1, "extra": 1}}, 422),
    ("PUT", "/v1/prompts/seed/p/labels/latest", {"json": {"version": 1}}, 422),
    (
        "PUT",
        "/v1/prompts/seed/p/labels/production",
        {"json": {"version": 1}, "role": Role.WRITER},
        403,
    ),
    ("POST", "/v1/prompts/seed/p/render", {"json": {"version": 1, "variables": []}}, 422),
    ("POST", "/v1/prompts/seed/p/render", {"json": {"label": "a", "version": 1}}, 422),
    ("POST", "/v1/keys", {"json": {"name": "bootstrap-admin"}}, 409),
    ("POST", "/v1/keys", {"json": {"name": "k", "role": "superuser"}}, 422),
    ("POST", "/v1/keys/424242/revoke", {}, 404),
    ("POST", "/v1/monitors", {"json": {**MONITOR, "cron": "61 * * * *"}}, 422),
    ("POST", "/v1/monitors", {"json": {**MONITOR, "cron": "* * * * * *"}}, 422),
    ("POST", "/v1/monitors", {"json": {**MONITOR, "cron": "0 0 31 2 *"}}, 422),
    ("POST", "/v1/monitors", {"json": {**MONITOR, "cron": None}}, 422),
    ("POST", "/v1/monitors", {"json": {**MONITOR, "name": "Bad Name"}}, 422),
    ("POST", "/v1/monitors", {"json": {**MONITOR, "label": "latest"}}, 422),
    ("POST", "/v1/monitors", {"json": {**MONITOR, "prompt": "missing/p"}}, 404),
    ("POST", "/v1/monitors", {"json": {**MONITOR, "trigger": "dataset"}}, 422),
    ("POST", "/v1/monitors", {"json": {**MONITOR, "signal": SIGNAL}}, 422),
    (
        "POST",
        "/v1/monitors",
        {"json": {**MONITOR, "trigger": "signal", "signal": {**SIGNAL, "metric": "score_mean"}}},
        422,
    ),
    (
        "POST",
        "/v1/monitors",
        {"json": {**MONITOR, "trigger": "signal", "signal": {**SIGNAL, "window_seconds": 5}}},
        422,
    ),
    (
        "POST",
        "/v1/monitors",
        {"json": {**MONITOR, "trigger": "signal", "signal": {**SIGNAL, "threshold": "1e999"}}},
        422,
    ),
    ("POST", "/v1/monitors", {"json": MONITOR, "role": Role.WRITER}, 403),
    ("PATCH", "/v1/monitors/missing", {"json": {"enabled": False}}, 404),
    ("PATCH", "/v1/monitors/missing", {"json": {"cron": "nope"}}, 422),
    ("DELETE", "/v1/monitors/missing", {}, 404),
    ("POST", "/v1/monitors/missing/trigger", {}, 404),
    ("POST", "/v1/incidents/424242/resolve", {"json": {"reason": "fixed"}}, 404),
    ("POST", "/v1/incidents/1/resolve", {"json": {"reason": "  "}}, 422),
    ("POST", "/v1/incidents/1/resolve", {"json": {}}, 422),
    (
        "PUT",
        "/v1/policies/production",
        {"json": {"required_suites": ["s"], "auto_rollback": "yes"}},
        422,
    ),
]


async def _counts(db: Database) -> dict[str, int]:
    async with db.reader() as session:
        return {
            name: int(
                (await session.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            )
            for name, table in metadata.tables.items()
        }


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    BAD_REQUESTS,
    ids=[f"{m} {p} {s}" for m, p, _, s in BAD_REQUESTS],
)
async def test_bad_input_changes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    await client.post("/v1/prompts/seed/p/versions", json=chat_body())
    before = await _counts(db)
    kwargs = dict(kwargs)
    role = kwargs.pop("role", None)
    if role is not None:
        kwargs["headers"] = {**kwargs.get("headers", {}), **auth(role)}
    response = await client.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    after = await _counts(db)
    if (method, status) == ("PUT", 403):
        # A refused label move changes nothing, and is itself news: one `label.move_refused`
        # event in the outbox (docs/monitoring.md), written after the rollback.
        assert after.pop("events") == before.pop("events") + 1
        async with db.reader() as session:
            kinds = (
                (await session.execute(sa.text("SELECT type FROM events ORDER BY id")))
                .scalars()
                .all()
            )
        assert kinds[-1] == "label.move_refused"
    assert after == before


async def test_sqlite_runs_in_wal_mode(db: Database) -> None:
    async with db.reader() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite only")
        mode = (await session.execute(sa.text("PRAGMA journal_mode"))).scalar_one()
        timeout = (await session.execute(sa.text("PRAGMA busy_timeout"))).scalar_one()
    assert mode == "wal"
    assert timeout > 0
