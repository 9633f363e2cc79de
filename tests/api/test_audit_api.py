"""The audit trail is a hash chain that `GET /v1/audit/verify` checks, evidence included."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from api.db import Database
from evals.models import PromotionPolicy, Run
from evals.promotion.audit import ensure_chain
from prompts import audit
from prompts.base import utc_now
from prompts.models import LabelEvent, Prompt
from prompts.policy import Role
from tests.api.gates import PROMPT, SUITE, move, push_suite, run_suite
from tests.conftest import auth


async def verify(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/v1/audit/verify", headers=auth(Role.READER))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def promoted(client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    """Fail v1, pass v2, promote v2 (gated), force v1, pin a stricter suite, roll back to v2."""
    await run_suite(client, db, version=1)
    assert (await move(client, 1)).status_code == 409
    run = await run_suite(client, db, version=2)
    assert (await move(client, 2)).status_code == 200
    forced = await move(client, 1, Role.ADMIN, force=True, reason="hotfix")
    assert forced.status_code == 200
    await push_suite(client, SUITE.replace("0.9", "0.95"))
    pinned = await client.put(
        "/v1/policies/production", json={"required_suites": ["triage-quality:2"]}
    )
    assert pinned.status_code == 200
    rolled = await move(client, 2, reason="rollback")
    assert rolled.status_code == 200
    assert "rollback_of" in rolled.json()["evidence"][0]
    return run


async def test_a_gated_history_verifies(gated: httpx.AsyncClient, db: Database) -> None:
    await promoted(gated, db)
    report = await verify(gated)
    assert report["ok"] is True, report["problems"]
    assert report["problems"] == []
    counts = {k: report[k] for k in ("events", "policy_events", "label_moves", "gated_moves")}
    assert counts == {"events": 5, "policy_events": 2, "label_moves": 3, "gated_moves": 1}
    assert (report["rollbacks"], report["forced_moves"]) == (1, 1)
    assert report["head_seq"] == 5
    history = (await gated.get(f"/v1/prompts/{PROMPT}/labels/production/history")).json()
    assert history["items"][0]["hash"] == report["head_hash"]


async def test_an_edited_event_breaks_the_chain(gated: httpx.AsyncClient, db: Database) -> None:
    await promoted(gated, db)
    async with db.transaction() as session:
        await session.execute(
            sa.update(LabelEvent).where(LabelEvent.seq == 3).values(reason="nothing to see")
        )
    report = await verify(gated)
    assert report["ok"] is False
    assert [(p["seq"], p["detail"]) for p in report["problems"]] == [
        (3, "the label event at 3 was changed")
    ]


async def test_a_deleted_event_breaks_the_chain(gated: httpx.AsyncClient, db: Database) -> None:
    await promoted(gated, db)
    async with db.transaction() as session:
        await session.execute(sa.delete(LabelEvent).where(LabelEvent.seq == 3))
    details = [p["detail"] for p in (await verify(gated))["problems"]]
    assert "links 3..3 are missing" in details


async def test_an_edited_run_no_longer_backs_its_move(
    gated: httpx.AsyncClient, db: Database
) -> None:
    run = await promoted(gated, db)
    async with db.transaction() as session:
        await session.execute(sa.update(Run).where(Run.id == run["id"]).values(verdict="failed"))
    problems = (await verify(gated))["problems"]
    assert [p["seq"] for p in problems] == [2, 5]  # the gated move, and the rollback citing it
    assert f"run {run['id']} is completed, failed" in problems[0]["detail"]


async def test_a_forged_link_without_passing_evidence_is_reported(
    gated: httpx.AsyncClient, db: Database
) -> None:
    failed = await run_suite(gated, db, version=1)
    # Someone with database access moves production and writes a well-formed link for it.
    async with db.transaction() as session:
        prompt_id = await session.scalar(sa.select(Prompt.id).where(Prompt.name == PROMPT))
        assert prompt_id is not None
        evidence = [
            {
                "suite": "triage-quality",
                "suite_version": 1,
                "suite_content_hash": "x",
                "run_id": failed["id"],
                "manifest_hash": failed["manifest_hash"],
            }
        ]
        event = LabelEvent(
            prompt_id=prompt_id,
            label="production",
            to_version=1,
            actor="mallory",
            actor_role="writer",
            evidence=evidence,
            created_at=utc_now(),
        )
        digest = failed["content_hash"]
        await audit.seal_label_event(session, event, prompt=PROMPT, content_hash=digest)
        session.add(event)
    report = await verify(gated)
    assert [p["detail"] for p in report["problems"]] == [
        f"triage-quality:1: run {failed['id']} is completed, failed"
    ]


async def test_an_upgrade_links_older_events_and_records_policies(
    client: httpx.AsyncClient, db: Database
) -> None:
    published = await client.post(
        "/v1/prompts/old/p/versions", json={"template": "hi", "config": {"model": "offline/echo"}}
    )
    assert published.status_code == 201
    async with db.transaction() as session:
        prompt_id = await session.scalar(sa.select(Prompt.id).where(Prompt.name == "old/p"))
        assert prompt_id is not None
        for actor in ("ana", "bo"):  # moves stored before roles and chain links existed
            session.add(
                LabelEvent(
                    prompt_id=prompt_id,
                    label="production",
                    to_version=1,
                    actor=actor,
                    created_at=utc_now(),
                )
            )
        session.add(PromotionPolicy(label="staging", scope="*", pins=[], force_role="admin"))
    unlinked = await verify(client)
    assert [p["detail"] for p in unlinked["problems"]][:1] == [
        "a label event is not linked (start the server once to link it)"
    ]
    async with db.transaction() as session:
        assert await ensure_chain(session) == (2, 1)
        assert await ensure_chain(session) == (0, 0)  # idempotent
    report = await verify(client)
    assert report["ok"] is True, report["problems"]
    assert (report["label_moves"], report["ungated_moves"], report["policy_events"]) == (2, 2, 1)
    history = (await client.get("/v1/policies/history")).json()["items"]
    assert (history[0]["action"], history[0]["actor"]) == ("recorded", "promptlane upgrade")


async def test_a_writer_move_of_a_protected_label_without_policy_is_a_gap(
    client: httpx.AsyncClient, db: Database
) -> None:
    await client.post(
        "/v1/prompts/w/p/versions", json={"template": "hi", "config": {"model": "offline/echo"}}
    )
    async with db.transaction() as session:
        prompt_id = await session.scalar(sa.select(Prompt.id).where(Prompt.name == "w/p"))
        assert prompt_id is not None
        event = LabelEvent(
            prompt_id=prompt_id,
            label="production",
            to_version=1,
            actor="ci",
            actor_role="writer",
            created_at=utc_now(),
        )
        version = (await client.get("/v1/prompts/w/p/versions/1")).json()
        await audit.seal_label_event(
            session, event, prompt="w/p", content_hash=version["content_hash"]
        )
        session.add(event)
    problems = (await verify(client))["problems"]
    assert [p["detail"] for p in problems] == ["moved by a writer key with no policy in force"]
