"""Unsetting labels, and archive events in the audit chain: who may, and what verify sees."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.db import Database
from prompts import labels
from prompts.models import ArchiveEvent, LabelEvent
from prompts.policy import Actor, PolicyDecision, Role
from tests.api.test_audit_api import verify
from tests.conftest import auth
from tests.factories import chat_body

PROMPT = "unset/p"


@pytest.fixture
async def labelled(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A prompt with v1 on staging, canary and production (moved by the admin)."""
    assert (await client.post(f"/v1/prompts/{PROMPT}/versions", json=chat_body())).is_success
    for label in ("staging", "canary", "production"):
        moved = await client.put(f"/v1/prompts/{PROMPT}/labels/{label}", json={"version": 1})
        assert moved.status_code == 200, moved.text
    return client


async def unset(
    client: httpx.AsyncClient, label: str, role: Role = Role.WRITER, reason: str = ""
) -> httpx.Response:
    params = {"reason": reason} if reason else {}
    return await client.delete(
        f"/v1/prompts/{PROMPT}/labels/{label}", params=params, headers=auth(role)
    )


async def test_a_reader_cannot_unset_a_label(labelled: httpx.AsyncClient) -> None:
    assert (await unset(labelled, "staging", Role.READER)).status_code == 403
    assert (await labelled.get(f"/v1/prompts/{PROMPT}/labels/staging")).status_code == 200


async def test_a_writer_cannot_unset_a_protected_label_an_admin_can(
    labelled: httpx.AsyncClient,
) -> None:
    refused = await unset(labelled, "production", Role.WRITER)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == (
        "label 'production' is protected: only an admin key may unset it"
    )
    assert (await labelled.get(f"/v1/prompts/{PROMPT}")).status_code == 200
    assert (await unset(labelled, "production", Role.ADMIN)).status_code == 200
    assert (await labelled.get(f"/v1/prompts/{PROMPT}")).status_code == 404


async def test_a_writer_cannot_unset_a_label_a_policy_gates(labelled: httpx.AsyncClient) -> None:
    suite = {"name": "s", "dataset": "d", "scorers": [{"type": "exact_match"}]}
    assert (await labelled.post("/v1/datasets/d/versions", json=[{"input": {}}])).is_success
    assert (await labelled.post("/v1/suites", json=suite)).is_success
    policy = await labelled.put("/v1/policies/canary", json={"required_suites": ["s"]})
    assert policy.status_code == 200, policy.text
    refused = await unset(labelled, "canary", Role.WRITER)
    assert refused.status_code == 403
    assert "gated by a promotion policy" in refused.json()["detail"]
    assert (await unset(labelled, "canary", Role.ADMIN, reason="retired")).status_code == 200
    assert (await verify(labelled))["ok"] is True


async def test_an_unset_is_audited_and_stops_resolving_at_once(
    labelled: httpx.AsyncClient,
) -> None:
    reader = auth(Role.READER)
    for _ in range(2):  # warm the resolve cache: the second read is a fast-path hit
        staged = await labelled.get(f"/v1/prompts/{PROMPT}?label=staging", headers=reader)
        assert staged.status_code == 200
    response = await unset(labelled, "staging", reason="no staging any more")
    assert response.status_code == 200, response.text
    event = response.json()
    assert (event["label"], event["from_version"], event["to_version"]) == ("staging", 1, None)
    assert (event["actor_role"], event["reason"]) == ("writer", "no staging any more")
    gone = await labelled.get(f"/v1/prompts/{PROMPT}?label=staging", headers=reader)
    assert gone.status_code == 404
    assert (await labelled.get(f"/v1/prompts/{PROMPT}/labels/staging")).status_code == 404
    history = (await labelled.get(f"/v1/prompts/{PROMPT}/labels/staging/history")).json()
    assert [(e["from_version"], e["to_version"]) for e in history["items"]] == [
        (1, None),
        (None, 1),
    ]
    assert history["items"][0]["hash"] == event["hash"]
    moved = await labelled.put(f"/v1/prompts/{PROMPT}/labels/staging", json={"version": 1})
    assert (moved.json()["from_version"], moved.json()["to_version"]) == (None, 1)


@pytest.mark.parametrize(
    ("label", "status", "detail"),
    [
        ("never-set", 404, "prompt 'unset/p' has no label 'never-set'"),
        ("latest", 422, "'latest' always means the highest version: it is never moved or unset"),
    ],
)
async def test_unsetting_what_is_not_set_is_refused(
    labelled: httpx.AsyncClient, label: str, status: int, detail: str
) -> None:
    response = await unset(labelled, label)
    assert (response.status_code, response.json()["detail"]) == (status, detail)
    missing = await labelled.delete("/v1/prompts/no/such/labels/staging")
    assert missing.status_code == 404


# --- the audit chain -----------------------------------------------------------------------


async def unset_and_archive(client: httpx.AsyncClient) -> dict[str, Any]:
    """Unset staging, archive and restore the prompt; return the verify report."""
    assert (await unset(client, "staging")).status_code == 200
    assert (await client.post(f"/v1/prompts/{PROMPT}/archive", json={"reason": "r"})).is_success
    assert (await client.post(f"/v1/prompts/{PROMPT}/restore")).is_success
    return await verify(client)


async def test_unsets_archives_and_restores_verify(labelled: httpx.AsyncClient) -> None:
    report = await unset_and_archive(labelled)
    assert report["ok"] is True, report["problems"]
    counts = ("events", "label_moves", "label_unsets", "archive_events", "head_seq")
    assert {k: report[k] for k in counts} == {
        "events": 6,
        "label_moves": 3,
        "label_unsets": 1,
        "archive_events": 2,
        "head_seq": 6,
    }


@pytest.mark.parametrize(
    ("table", "seq", "change", "detail"),
    [
        (LabelEvent, 4, {"reason": "nothing to see"}, "the label event at 4 was changed"),
        (LabelEvent, 4, {"to_version": 1}, "the label event at 4 was changed"),
        (ArchiveEvent, 5, {"action": "restore"}, "the archive event at 5 was changed"),
        (ArchiveEvent, 6, {"name": "other"}, "the archive event at 6 was changed"),
    ],
)
async def test_an_edited_unset_or_archive_event_breaks_the_chain(
    labelled: httpx.AsyncClient,
    db: Database,
    table: type[LabelEvent] | type[ArchiveEvent],
    seq: int,
    change: dict[str, Any],
    detail: str,
) -> None:
    await unset_and_archive(labelled)
    async with db.transaction() as session:
        await session.execute(sa.update(table).where(table.seq == seq).values(**change))
    report = await verify(labelled)
    assert report["ok"] is False
    assert [(p["seq"], p["detail"]) for p in report["problems"]] == [(seq, detail)]


async def test_a_deleted_archive_event_breaks_the_chain(
    labelled: httpx.AsyncClient, db: Database
) -> None:
    await unset_and_archive(labelled)
    async with db.transaction() as session:
        await session.execute(sa.delete(ArchiveEvent).where(ArchiveEvent.seq == 5))
    details = [p["detail"] for p in (await verify(labelled))["problems"]]
    assert "links 5..5 are missing" in details


class _AllowAll:
    async def check(self, session: Any, request: Any) -> PolicyDecision:
        return PolicyDecision(allowed=True)

    async def check_unset(self, session: Any, request: Any) -> PolicyDecision:
        return PolicyDecision(allowed=True)


async def test_a_writer_unset_of_a_protected_label_is_a_gap_even_when_well_linked(
    labelled: httpx.AsyncClient, db: Database
) -> None:
    # Someone bypasses the route's policy: the event is linked correctly, verify still objects.
    writer = Actor(id="key:w", name="mallory", role=Role.WRITER)
    async with db.transaction() as session:
        await labels.unset_label(
            session, name=PROMPT, label="production", actor=writer, reason="", policy=_AllowAll()
        )
    problems = (await verify(labelled))["problems"]
    assert [(p["label"], p["detail"]) for p in problems] == [
        ("production", "unset by a writer key; only an admin may unset it")
    ]
