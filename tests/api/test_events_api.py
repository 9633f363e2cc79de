"""The events outbox through the API: one event per change, none for a no-op or a rollback,
and a refused label move recorded after its rollback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from api.db import Database
from prompts import events, labels
from prompts.models import Event
from prompts.policy import Role
from prompts.schemas import LabelMove
from tests.api.gates import PROMPT, move, run_suite
from tests.conftest import ADMIN, auth
from tests.factories import chat_body


async def outbox(db: Database) -> list[Event]:
    async with db.reader() as session:
        return list(await session.scalars(select(Event).order_by(col(Event.id))))


async def types(db: Database) -> list[str]:
    return [e.type for e in await outbox(db)]


async def test_a_publish_emits_one_event_and_an_identical_push_none(
    client: httpx.AsyncClient, db: Database
) -> None:
    first = await client.post("/v1/prompts/ev/p/versions", json=chat_body())
    assert first.status_code == 201
    again = await client.post("/v1/prompts/ev/p/versions", json=chat_body())
    assert again.status_code == 200  # identical content: the same version, nothing new
    (event,) = await outbox(db)
    assert event.type == events.PROMPT_VERSION_PUBLISHED
    assert event.data == {
        "prompt": "ev/p",
        "version": 1,
        "content_hash": first.json()["content_hash"],
    }
    assert event.actor == "bootstrap-admin"
    assert event.uid.startswith("msg_")
    assert len(event.uid) == 36
    assert event.fanned_out_at is None


async def test_a_label_move_and_unset_each_emit_label_moved(
    client: httpx.AsyncClient, db: Database
) -> None:
    await client.post("/v1/prompts/ev/p/versions", json=chat_body())
    moved = await client.put("/v1/prompts/ev/p/labels/staging", json={"version": 1, "reason": "r"})
    assert moved.status_code == 200
    same = await client.put("/v1/prompts/ev/p/labels/staging", json={"version": 1})
    assert same.status_code == 200  # already there: no move, no event
    unset = await client.delete("/v1/prompts/ev/p/labels/staging")
    assert unset.status_code == 200
    found = [e for e in await outbox(db) if e.type == events.LABEL_MOVED]
    assert [(e.data["from_version"], e.data["to_version"]) for e in found] == [(None, 1), (1, None)]
    assert found[0].data["reason"] == "r"
    assert found[0].data["seq"] == moved.json()["seq"]


async def test_a_refused_move_records_label_move_refused_after_its_rollback(
    client: httpx.AsyncClient, db: Database
) -> None:
    await client.post("/v1/prompts/ev/p/versions", json=chat_body())
    before = await outbox(db)
    refused = await client.put(
        "/v1/prompts/ev/p/labels/production", json={"version": 1}, headers=auth(Role.WRITER)
    )
    assert refused.status_code == 403
    after = await outbox(db)
    assert len(after) == len(before) + 1
    event = after[-1]
    assert event.type == events.LABEL_MOVE_REFUSED
    assert event.actor == "test-writer"
    assert event.data["label"] == "production"
    assert event.data["to_version"] == 1
    assert event.data["refusal"] == "Label is protected"
    assert "only an admin key" in event.data["detail"]
    assert (await client.get("/v1/prompts/ev/p/labels")).json() == []  # nothing moved


async def test_a_gate_refusal_is_recorded_and_a_forced_move_is_a_move(
    gated: httpx.AsyncClient, db: Database
) -> None:
    refused = await move(gated, 1, Role.ADMIN)
    assert refused.status_code == 409
    forced = await move(gated, 1, Role.ADMIN, force=True, reason="hotfix")
    assert forced.status_code == 200
    tail = [e for e in await outbox(db) if e.type.startswith("label.")]
    assert [e.type for e in tail] == [events.LABEL_MOVE_REFUSED, events.LABEL_MOVED]
    assert tail[0].data["refusal"] == "Promotion gate not passed"
    assert tail[1].data["is_forced"] is True


async def test_policy_changes_emit_policy_changed_and_an_unchanged_put_none(
    gated: httpx.AsyncClient, db: Database
) -> None:
    body = {"required_suites": ["triage-quality"], "reason": "same"}
    assert (await gated.put("/v1/policies/production", json=body)).status_code == 200
    assert (await gated.delete("/v1/policies/production")).status_code == 204
    changes = [e for e in await outbox(db) if e.type == events.POLICY_CHANGED]
    assert [e.data["action"] for e in changes] == ["created", "deleted"]
    assert (changes[0].data["label"], changes[0].data["prompt"]) == ("production", None)
    assert changes[0].data["policy"]["pins"][0]["suite"] == "triage-quality"
    assert changes[1].data["policy"] is None


async def test_a_run_emits_run_finished_once_when_it_ends(
    gated: httpx.AsyncClient, db: Database
) -> None:
    run = await run_suite(gated, db, version=2)
    finished = [e for e in await outbox(db) if e.type == events.RUN_FINISHED]
    assert len(finished) == 1
    data: dict[str, Any] = finished[0].data
    assert (data["run_id"], data["status"], data["verdict"]) == (run["id"], "completed", "passed")
    assert (data["prompt"], data["version"], data["suite"]) == (PROMPT, 2, "triage-quality")
    assert finished[0].actor == "bootstrap-admin"


async def test_cancelling_a_queued_run_emits_run_finished(
    gated: httpx.AsyncClient, db: Database
) -> None:
    started = await gated.post(
        "/v1/runs", json={"suite": "triage-quality", "prompt": PROMPT, "version": 1}
    )
    run_id = started.json()["id"]
    assert (await gated.post(f"/v1/runs/{run_id}/cancel")).status_code == 200
    finished = [e for e in await outbox(db) if e.type == events.RUN_FINISHED]
    assert [(e.data["run_id"], e.data["status"]) for e in finished] == [(run_id, "cancelled")]


async def test_a_rolled_back_write_leaves_no_event(
    app: Any, client: httpx.AsyncClient, db: Database
) -> None:
    await client.post("/v1/prompts/ev/p/versions", json=chat_body())
    before = await types(db)

    async def move_then_fail() -> None:
        async with db.transaction() as session:
            await labels.move_label(
                session,
                name="ev/p",
                label="staging",
                move=LabelMove(version=1),
                actor=ADMIN,
                policy=app.state.services.label_policy,
            )
            raise RuntimeError("the request failed after the move")

    with pytest.raises(RuntimeError):
        await move_then_fail()
    assert await types(db) == before


async def test_nul_in_event_data_is_removed(db: Database) -> None:
    async with db.transaction() as session:
        await events.emit(session, events.LABEL_MOVED, {"reason": "a\x00b"}, actor="x\x00y")
    (event,) = await outbox(db)
    assert (event.data, event.actor) == ({"reason": "ab"}, "xy")


def test_an_unknown_event_type_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        events.event_row("prompt.nonsense", {}, actor="x")
