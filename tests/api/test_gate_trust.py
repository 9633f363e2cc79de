"""What a writer key cannot do to a gate: weaken it, make the weakening stick, or reuse stale runs.

Each test is one finding of the trust-model review, written as the attack it reproduces.
"""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from api.db import Database
from prompts.base import utc_now
from prompts.models import LabelEvent, Prompt
from prompts.policy import Role
from tests.api.gates import (
    ITEMS,
    PROMPT,
    SUITE,
    move,
    push_suite,
    run_suite,
)
from tests.conftest import auth

WRITER = auth(Role.WRITER)
WEAK_SUITE = SUITE.replace(
    'gates:\n  - {metric: correct, aggregate: mean, op: ">=", value: 0.9}\n', "gates: []\n"
)


async def as_writer_push_suite(client: httpx.AsyncClient, text: str) -> dict[str, Any]:
    pushed = await client.post(
        "/v1/suites", content=text, headers={"Content-Type": "application/yaml", **WRITER}
    )
    assert pushed.status_code in (200, 201), pushed.text
    body: dict[str, Any] = pushed.json()
    return body


async def production(client: httpx.AsyncClient) -> int | None:
    found = await client.get(f"/v1/prompts/{PROMPT}/labels/production")
    return int(found.json()["version"]) if found.status_code == 200 else None


async def test_a_writer_pushing_a_suite_without_gates_cannot_promote(
    gated: httpx.AsyncClient, db: Database
) -> None:
    weak = await as_writer_push_suite(gated, WEAK_SUITE)
    assert (weak["version"], weak["is_current"]) == (2, True)
    run = await run_suite(gated, db, version=1, headers=WRITER)  # runs the current (weak) one
    assert (run["suite_version"], run["verdict"]) == (2, "passed")

    refused = await move(gated, 1, Role.WRITER)
    assert refused.status_code == 409, refused.text
    evidence = refused.json()["gate"]["suites"][0]
    assert (evidence["suite_version"], evidence["current_version"]) == (1, 2)
    assert await production(gated) is None


async def test_a_writer_rewriting_the_dataset_cannot_promote(
    gated: httpx.AsyncClient, db: Database
) -> None:
    # Every item now "expects" what the broken v1 answers (it echoes the ticket back).
    rigged = [{**item, "expected": item["input"]["ticket"]} for item in ITEMS]
    pushed = await gated.post(
        "/v1/datasets/tickets/versions", json={"items": rigged}, headers=WRITER
    )
    assert pushed.status_code == 201
    suite = await as_writer_push_suite(gated, SUITE)  # same YAML: pins the rigged dataset
    assert (suite["version"], suite["dataset_version"]) == (2, 2)
    run = await run_suite(gated, db, version=1, headers=WRITER)
    assert run["verdict"] == "passed"
    assert (await move(gated, 1, Role.WRITER)).status_code == 409
    assert await production(gated) is None


async def test_repushing_the_original_suite_undoes_a_weakening(
    gated: httpx.AsyncClient, db: Database
) -> None:
    await as_writer_push_suite(gated, WEAK_SUITE)
    restored = await gated.post(
        "/v1/suites", content=SUITE, headers={"Content-Type": "application/yaml"}
    )
    assert restored.status_code == 200
    assert (restored.json()["version"], restored.json()["is_current"]) == (1, True)
    run = await run_suite(gated, db, version=1)
    assert run["suite_version"] == 1  # runs follow the current version again
    listed = (await gated.get("/v1/suites", params={"q": "triage-quality"})).json()["items"]
    assert (listed[0]["latest_version"], listed[0]["current_version"]) == (2, 1)


async def test_runs_of_an_older_pin_are_stale_once_an_admin_pins_a_stricter_suite(
    gated: httpx.AsyncClient, db: Database
) -> None:
    passed = await run_suite(gated, db, version=2)
    assert passed["verdict"] == "passed"
    stricter = [*ITEMS, {**ITEMS[0], "input": {"company": "Acme", "ticket": "new case"}}]
    await gated.post("/v1/datasets/tickets/versions", json={"items": stricter})
    await push_suite(gated)  # same YAML, now pinning dataset v2
    pinned = await gated.put(
        "/v1/policies/production",
        json={"required_suites": ["triage-quality:2"], "reason": "dataset v2 adds a case"},
    )
    assert pinned.json()["pins"][0]["dataset_version"] == 2
    refused = await move(gated, 2)
    assert refused.status_code == 409
    assert "no completed run of triage-quality:2" in refused.json()["gate"]["suites"][0]["detail"]


async def test_a_bare_suite_name_keeps_the_pin_an_admin_chose(
    gated: httpx.AsyncClient,
) -> None:
    await as_writer_push_suite(gated, WEAK_SUITE)
    # An admin changing something else must not silently pin the writer's new version.
    again = await gated.put(
        "/v1/policies/production",
        json={"required_suites": ["triage-quality"], "max_age_seconds": 3600},
    )
    assert again.json()["pins"][0]["version"] == 1


async def test_only_admins_change_pins_and_every_change_is_audited(
    gated: httpx.AsyncClient,
) -> None:
    body = {"required_suites": ["triage-quality:1"], "reason": "try"}
    assert (
        await gated.put("/v1/policies/production", json=body, headers=WRITER)
    ).status_code == 403
    assert (await gated.delete("/v1/policies/production", headers=WRITER)).status_code == 403
    changed = await gated.put(
        "/v1/policies/production",
        json={"required_suites": ["triage-quality"], "max_age_seconds": 600, "reason": "fresh"},
    )
    assert changed.status_code == 200
    same = await gated.put(
        "/v1/policies/production",
        json={"required_suites": ["triage-quality"], "max_age_seconds": 600, "reason": "again"},
    )
    assert same.status_code == 200
    deleted = await gated.delete("/v1/policies/production", params={"reason": "retire"})
    assert deleted.status_code == 204
    history = (await gated.get("/v1/policies/history", headers=auth(Role.READER))).json()
    assert [(e["action"], e["reason"]) for e in history["items"]] == [
        ("deleted", "retire"),
        ("updated", "fresh"),  # the identical PUT changed nothing and recorded nothing
        ("created", ""),
    ]
    assert history["items"][1]["policy"]["max_age_seconds"] == 600
    assert history["items"][0]["policy"] is None
    assert {e["actor"] for e in history["items"]} == {"bootstrap-admin"}


async def test_a_policy_must_name_a_suite_that_exists(gated: httpx.AsyncClient) -> None:
    for body in (
        {"required_suites": []},
        {"required_suites": ["missing-suite"]},
        {"required_suites": ["triage-quality:9"]},
        {"required_suites": ["triage-quality", "triage-quality:1"]},
        {"required_suites": ["triage-quality:0"]},
    ):
        refused = await gated.put("/v1/policies/staging", json=body)
        assert refused.status_code == 422, (body, refused.text)
    assert [p["label"] for p in (await gated.get("/v1/policies")).json()] == ["production"]


async def test_moves_recorded_before_the_trust_model_are_not_rollback_targets(
    gated: httpx.AsyncClient, db: Database
) -> None:
    # A move of v1 stored the old way (no role, evidence naming no pinned suite version),
    # as a weakened gate once allowed it.
    async with db.transaction() as session:
        prompt_id = await session.scalar(sa.select(Prompt.id).where(Prompt.name == PROMPT))
        assert prompt_id is not None
        session.add(
            LabelEvent(
                prompt_id=prompt_id,
                label="production",
                to_version=1,
                actor="old",
                evidence=[{"suite": "triage-quality", "run_id": 1, "manifest_hash": "x" * 64}],
                created_at=utc_now(),
            )
        )
    refused = await move(gated, 1, Role.ADMIN)
    assert refused.status_code == 409, refused.text
    assert refused.json()["gate"]["rollback"] is None
