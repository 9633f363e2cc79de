"""Monitors and incidents over HTTP: CRUD, cron checked by croniter, trigger, resolve, and
`auto_rollback` on policies (audited like every policy field)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import col, select

from api.db import Database
from evals.monitors.models import LabelIncident
from prompts.models import Event
from prompts.policy import Role
from tests.api.monitoring import PROMPT, gated_prompt
from tests.conftest import auth
from tests.factories import chat_body

SIGNAL = {"metric": "error_rate", "op": ">", "threshold": 0.5, "window_seconds": 600}


async def _prompt(client: httpx.AsyncClient) -> None:
    assert (await client.post(f"/v1/prompts/{PROMPT}/versions", json=chat_body())).is_success
    moved = await client.put(f"/v1/prompts/{PROMPT}/labels/production", json={"version": 1})
    assert moved.status_code == 200


async def _events(db: Database, type_: str) -> list[dict[str, Any]]:
    async with db.reader() as session:
        rows = await session.scalars(
            select(Event).where(Event.type == type_).order_by(col(Event.id))
        )
        return [row.data for row in rows]


async def test_monitors_are_created_read_changed_and_deleted(client: httpx.AsyncClient) -> None:
    await _prompt(client)
    body = {
        "name": "hourly",
        "prompt": PROMPT,
        "label": "production",
        "trigger": "schedule",
        "cron": "0 * * * *",
    }
    created = await client.post("/v1/monitors", json=body)
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["enabled"] is True
    assert made["next_due_at"].endswith(":00:00Z")
    again = await client.post("/v1/monitors", json=body)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    listed = await client.get("/v1/monitors", headers=auth(Role.READER))
    assert [m["name"] for m in listed.json()] == ["hourly"]
    changed = await client.patch("/v1/monitors/hourly", json={"cron": "*/15 * * * *"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["cron"] == "*/15 * * * *"
    minute = int(changed.json()["next_due_at"][14:16])
    assert minute % 15 == 0
    paused = await client.patch("/v1/monitors/hourly", json={"enabled": False})
    assert paused.json()["enabled"] is False
    wrong = await client.patch("/v1/monitors/hourly", json={"signal": SIGNAL})
    assert wrong.status_code == 422
    assert (await client.delete("/v1/monitors/hourly")).status_code == 204
    assert (await client.get("/v1/monitors/hourly")).status_code == 404


async def test_an_invalid_cron_expression_is_a_422_problem(client: httpx.AsyncClient) -> None:
    body = {"name": "bad", "label": "production", "trigger": "schedule", "cron": "0 25 * * *"}
    response = await client.post("/v1/monitors", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert "invalid cron expression" in str(problem)


async def test_a_writer_triggers_a_signal_monitor_and_resolves_an_incident(
    client: httpx.AsyncClient, db: Database
) -> None:
    await _prompt(client)
    body = {
        "name": "errors",
        "prompt": PROMPT,
        "label": "production",
        "trigger": "signal",
        "signal": SIGNAL,
    }
    assert (await client.post("/v1/monitors", json=body)).status_code == 201
    triggered = await client.post("/v1/monitors/errors/trigger", headers=auth(Role.WRITER))
    assert triggered.status_code == 200, triggered.text
    [event] = triggered.json()
    assert (event["status"], event["period_key"][:7]) == ("insufficient", "manual:")
    assert event["evidence"]["samples"] == 0
    listed = await client.get("/v1/monitors/errors/events", params={"status": "insufficient"})
    assert [e["id"] for e in listed.json()["items"]] == [event["id"]]

    async with db.transaction() as session:
        incident = LabelIncident(prompt=PROMPT, label="production", first_event_id=event["id"])
        session.add(incident)
        await session.flush()
        incident_id = incident.id
    labels = (await client.get(f"/v1/prompts/{PROMPT}/labels")).json()
    assert labels[0]["incident_id"] == incident_id
    opened = await client.get("/v1/incidents", params={"open": "true", "label": "production"})
    assert [i["id"] for i in opened.json()["items"]] == [incident_id]

    resolve = f"/v1/incidents/{incident_id}/resolve"
    refused = await client.post(resolve, json={"reason": "x"}, headers=auth(Role.READER))
    assert refused.status_code == 403
    resolved = await client.post(
        resolve, json={"reason": "provider fixed"}, headers=auth(Role.WRITER)
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["is_open"], resolved.json()["resolved_by"]) == (False, "test-writer")
    twice = await client.post(resolve, json={"reason": "again"})
    assert twice.status_code == 409
    [data] = await _events(db, "incident.resolved")
    assert (data["incident_id"], data["reason"], data["label"]) == (
        incident_id, "provider fixed", "production",
    )  # fmt: skip
    labels = (await client.get(f"/v1/prompts/{PROMPT}/labels")).json()
    assert labels[0]["incident_id"] is None
    assert (await client.get("/v1/incidents", params={"open": "false"})).json()["total"] == 1


async def test_auto_rollback_is_an_audited_admin_only_policy_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    await gated_prompt(client, auto_rollback=False)
    writer = await client.put(
        "/v1/policies/production",
        json={"required_suites": ["triage-quality"], "auto_rollback": True},
        headers=auth(Role.WRITER),
    )
    assert writer.status_code == 403
    body = {"required_suites": ["triage-quality"], "auto_rollback": True, "reason": "opt in"}
    stored = await client.put("/v1/policies/production", json=body)
    assert stored.json()["auto_rollback"] is True
    assert [p["auto_rollback"] for p in (await client.get("/v1/policies")).json()] == [True]
    history = (await client.get("/v1/policies/history")).json()["items"]
    assert [h["policy"]["auto_rollback"] for h in history] == [True, False]
    changes = await _events(db, "policy.changed")
    assert [c["policy"]["auto_rollback"] for c in changes] == [False, True]
    verified = (await client.get("/v1/audit/verify")).json()
    assert verified["ok"] is True, verified["problems"]
