"""The "provider changed the model" story: a scheduled monitor re-runs a label's pinned suite,
the second period fails, the monitor fires, a real receiver gets a signed `monitor.fired`, and
the label rolls back (with auto-rollback) or only reports (without)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from api.db import Database
from evals.monitors.scheduler import Scheduler
from evals.webhooks.dispatcher import Dispatcher
from prompts import events
from prompts.models import Event
from tests.api.monitoring import (
    CHANGED,
    PROMPT,
    ProviderModel,
    at,
    gated_prompt,
    monitor,
    period,
    promote,
)
from tests.evals.webhook_receiver import Inbox, receiver


async def _outbox(db: Database, type_: str) -> list[Event]:
    async with db.reader() as session:
        rows = await session.scalars(
            select(Event).where(Event.type == type_).order_by(col(Event.id))
        )
        return list(rows)


@pytest.mark.parametrize("auto_rollback", [True, False])
async def test_a_changed_model_fires_the_monitor_and_rolls_back_only_where_opted_in(
    app: FastAPI, client: httpx.AsyncClient, db: Database, auto_rollback: bool
) -> None:
    await gated_prompt(client, auto_rollback=auto_rollback)
    await promote(client, db, 1)
    await promote(client, db, 2)
    inbox = Inbox(secret="")
    with receiver(inbox) as hook_url:
        hook = {"name": "ops", "url": hook_url, "event_types": ["monitor.fired"]}
        created = await client.post("/v1/webhooks", json=hook)
        assert created.status_code == 201, created.text
        inbox.secret = created.json()["secret"]
        made = await monitor(
            client, name="nightly", prompt=PROMPT, label="production", trigger="schedule",
            cron="0 * * * *",
        )  # fmt: skip
        scheduler = Scheduler(db.writer, protected=frozenset({"production"}))
        model = ProviderModel()
        first = at(made["next_due_at"])

        assert (await period(scheduler, db, model, first)).settled == {"ok": 1}
        model.script = CHANGED
        second = await period(scheduler, db, model, first + timedelta(hours=1))
        assert second.settled == {"fired": 1}

        services = app.state.services
        dispatcher = Dispatcher(db.writer, box=services.keyring.box)
        try:
            await dispatcher.tick()
        finally:
            await dispatcher.aclose()

    page = (await client.get("/v1/monitors/nightly/events")).json()
    assert [e["status"] for e in page["items"]] == ["fired", "ok"]
    fired = page["items"][0]
    assert [r["verdict"] for r in fired["evidence"]["runs"]] == ["failed"]
    assert fired["evidence"]["runs"][0]["run_id"] == second.run_ids[0]
    assert fired["version"] == 2
    incident_id = fired["evidence"]["incident_id"]
    incident = (await client.get(f"/v1/incidents/{incident_id}")).json()
    assert incident["is_open"] is True
    assert incident["first_event_id"] == fired["id"]

    # The receiver verified the signature with `standardwebhooks` and got the firing.
    assert inbox.refused == []
    [payload] = inbox.processed.values()
    assert payload["type"] == "monitor.fired"
    data = payload["data"]
    assert (data["monitor"], data["prompt"], data["label"], data["version"]) == (
        "nightly", PROMPT, "production", 2,
    )  # fmt: skip
    assert data["incident_id"] == incident_id
    assert data["evidence"]["runs"][0]["verdict"] == "failed"

    labels = (await client.get(f"/v1/prompts/{PROMPT}/labels")).json()
    production = next(label for label in labels if label["name"] == "production")
    assert production["incident_id"] == incident_id
    history = (await client.get(f"/v1/prompts/{PROMPT}/labels/production/history")).json()
    newest = history["items"][0]
    if auto_rollback:
        assert production["version"] == 1
        assert newest["actor"] == "monitor:nightly"
        assert newest["is_forced"] is False
        assert (newest["from_version"], newest["to_version"]) == (2, 1)
        assert all(e["monitor_event_id"] == fired["id"] for e in newest["evidence"])
        assert f"monitor event {fired['id']}" in newest["reason"]
        assert fired["evidence"]["rollback"]["moved"] is True
        assert data["rollback"]["to_version"] == 1
    else:
        assert production["version"] == 2
        assert newest["actor"] != "monitor:nightly"
        assert "rollback" not in fired["evidence"]
        assert data["rollback"] is None
    verified = (await client.get("/v1/audit/verify")).json()
    assert verified["ok"] is True, verified["problems"]
    assert len(await _outbox(db, events.MONITOR_FIRED)) == 1

    firings = (await client.get(f"/v1/incidents/{incident_id}/events")).json()
    assert [e["id"] for e in firings["items"]] == [fired["id"]]
    assert (await client.get("/v1/incidents/999999/events")).status_code == 404
    if not auto_rollback:  # still failing the next period: the firing joins the open incident
        third = await period(scheduler, db, model, first + timedelta(hours=2))
        assert third.settled == {"fired": 1}
        joined = (await client.get(f"/v1/incidents/{incident_id}/events")).json()
        assert joined["total"] == 2
        assert joined["items"][0]["id"] == fired["id"]
        assert (await client.get(f"/v1/incidents/{incident_id}")).json()["firings"] == 2
