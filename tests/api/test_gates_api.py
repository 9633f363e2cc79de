"""The server enforces promotion policies: refuse, pass, inconclusive, force, rollback."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa

from api.db import Database
from api.server.openapi import GateRefusal
from evals.models import Run
from evals.promotion.reports import GateReport
from prompts.base import utc_now
from prompts.policy import Role
from tests.api.gates import PROMPT, SUITE, move, push_suite, run_suite, version
from tests.conftest import auth


async def test_move_without_a_run_is_refused_with_the_gate_report(
    gated: httpx.AsyncClient,
) -> None:
    refused = await move(gated, 2, Role.ADMIN)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"] == "urn:promptlane:problem:gate-failed"
    assert problem["gate"]["allowed"] is False
    assert problem["gate"]["suites"][0]["suite"] == "triage-quality"
    assert problem["gate"]["suites"][0]["suite_version"] == 1
    assert "no completed run of triage-quality:1" in problem["gate"]["suites"][0]["detail"]
    labels = await gated.get(f"/v1/prompts/{PROMPT}/labels")
    assert labels.json() == []  # nothing moved
    # The body is what the OpenAPI document declares for this 409, and the check's report.
    refusal = GateRefusal.model_validate(problem)
    assert refusal.gate.allowed is False
    check = await gated.get(f"/v1/prompts/{PROMPT}/labels/production/check", params={"version": 2})
    assert GateReport.model_validate(check.json()) == refusal.gate


async def test_failing_run_refuses_and_passing_run_allows_with_evidence(
    gated: httpx.AsyncClient, db: Database
) -> None:
    failed = await run_suite(gated, db, version=1)
    assert (failed["status"], failed["verdict"]) == ("completed", "failed")
    refused = await move(gated, 1)
    assert refused.status_code == 409
    assert refused.json()["gate"]["suites"][0]["verdict"] == "failed"

    passed = await run_suite(gated, db, version=2)
    assert passed["verdict"] == "passed"
    dry = await gated.get(f"/v1/prompts/{PROMPT}/labels/production/check", params={"version": 2})
    assert dry.json()["allowed"] is True
    moved = await move(gated, 2)  # a writer may promote once the gate passed
    assert moved.status_code == 200, moved.text
    event = moved.json()
    assert event["is_forced"] is False
    suite = (await gated.get("/v1/suites/triage-quality")).json()
    assert event["evidence"] == [
        {
            "suite": "triage-quality",
            "suite_version": 1,
            "suite_content_hash": suite["content_hash"],
            "run_id": passed["id"],
            "manifest_hash": passed["manifest_hash"],
        }
    ]
    assert (event["actor_role"], event["seq"]) == ("writer", 2)  # 1: the policy
    resolved = await gated.get(f"/v1/prompts/{PROMPT}")
    assert resolved.json()["version"] == 2


async def test_dry_run_explains_a_refusal(gated: httpx.AsyncClient, db: Database) -> None:
    await run_suite(gated, db, version=1)
    report = (
        await gated.get(f"/v1/prompts/{PROMPT}/labels/production/check", params={"version": 1})
    ).json()
    assert report["allowed"] is False
    assert report["suites"][0]["verdict"] == "failed"
    assert "triage-quality" in report["detail"]


async def test_force_needs_the_force_role_and_a_reason(
    gated: httpx.AsyncClient, db: Database
) -> None:
    refused = await move(gated, 1, Role.WRITER, force=True)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "urn:promptlane:problem:force-not-allowed"
    assert refused.json()["detail"].startswith("only an admin key may force 'production'")
    no_reason = await move(gated, 1, Role.ADMIN, force=True, reason=" ")
    assert no_reason.status_code == 422
    assert no_reason.json()["title"] == "Reason required"  # not an "Invalid promotion policy"
    assert no_reason.json()["detail"].startswith("forcing 'production' needs a reason")
    forced = await move(gated, 1, Role.ADMIN, force=True, reason="hotfix, suite broken")
    assert forced.status_code == 200
    assert forced.json()["is_forced"] is True
    history = await gated.get(f"/v1/prompts/{PROMPT}/labels/production/history")
    assert history.json()["items"][0]["is_forced"] is True


async def test_rollback_to_a_version_that_passed_before_needs_no_rerun(
    gated: httpx.AsyncClient, db: Database
) -> None:
    await run_suite(gated, db, version=2)
    assert (await move(gated, 2)).status_code == 200
    third = await gated.post(
        f"/v1/prompts/{PROMPT}/versions", json=version("offline/scripted", latency_ms=1)
    )
    assert third.json()["version"] == 3
    await run_suite(gated, db, version=3)
    assert (await move(gated, 3)).status_code == 200
    # The policy pins a stricter suite: old runs no longer count, but v2 held production
    # through the gate.
    await push_suite(gated, SUITE.replace("0.9", "0.95"))
    repinned = await gated.put(
        "/v1/policies/production", json={"required_suites": ["triage-quality:2"]}
    )
    assert repinned.json()["pins"][0]["version"] == 2
    rolled = await move(gated, 2, reason="rollback")
    assert rolled.status_code == 200, rolled.text
    assert "rollback_of" in rolled.json()["evidence"][0]
    assert (await move(gated, 1)).status_code == 409  # v1 never passed


async def test_stale_runs_are_refused_under_max_age(gated: httpx.AsyncClient, db: Database) -> None:
    await gated.put(
        "/v1/policies/production",
        json={"required_suites": ["triage-quality"], "max_age_seconds": 3600},
    )
    run = await run_suite(gated, db, version=2)
    async with db.transaction() as session:
        await session.execute(
            sa.update(Run)
            .where(Run.id == run["id"])
            .values(finished_at=utc_now() - timedelta(hours=2))
        )
    refused = await move(gated, 2)
    assert refused.status_code == 409
    assert "older than the policy's max age" in refused.json()["gate"]["suites"][0]["detail"]


async def test_inconclusive_runs_do_not_promote(gated: httpx.AsyncClient, db: Database) -> None:
    run = await run_suite(gated, db, version=2)
    # The bootstrap's inconclusive outcome is covered in tests/evals/test_gates.py; here the
    # policy must treat a stored inconclusive verdict as "not passed".
    async with db.transaction() as session:
        await session.execute(
            sa.update(Run).where(Run.id == run["id"]).values(verdict="inconclusive")
        )
    refused = await move(gated, 2)
    assert refused.status_code == 409
    assert refused.json()["gate"]["suites"][0]["verdict"] == "inconclusive"


async def test_runs_compare_with_the_label_holder_as_baseline(
    gated: httpx.AsyncClient, db: Database
) -> None:
    await run_suite(gated, db, version=2)
    assert (await move(gated, 2)).status_code == 200
    await push_suite(gated, SUITE + "baseline: {metric: correct, max_regression: 0.1}\n")
    await gated.put("/v1/policies/production", json={"required_suites": ["triage-quality:2"]})
    third = await gated.post(
        f"/v1/prompts/{PROMPT}/versions", json=version("offline/scripted", latency_ms=1)
    )
    run = await run_suite(gated, db, version=third.json()["version"], label=None)
    assert run["baseline_version"] == 2
    assert run["gate"]["baseline"]["outcome"] == "passed"
    assert (await move(gated, 3)).status_code == 200
    # Production now holds v3, so a run of v2 that compared with v1 (none) is stale for v2.
    forced_back = await move(gated, 2, Role.ADMIN)
    assert forced_back.status_code == 200  # a rollback: v2 held production through the gate


async def test_policy_scoped_to_one_prompt_wins_over_the_global_one(
    gated: httpx.AsyncClient, db: Database
) -> None:
    lenient = SUITE.replace("triage-quality", "lenient").replace("value: 0.9", "value: 0.0")
    await push_suite(gated, lenient)
    scoped = await gated.put(
        "/v1/policies/production", json={"required_suites": ["lenient"], "prompt": PROMPT}
    )
    assert scoped.status_code == 200
    await run_suite(gated, db, version=1, suite="lenient")
    assert (await move(gated, 1)).status_code == 200  # only `lenient` counts for this prompt
    policies = (await gated.get("/v1/policies")).json()
    assert {(p["label"], p["prompt"]) for p in policies} == {
        ("production", None),
        ("production", PROMPT),
    }


async def test_policy_admin_only_and_bad_input(gated: httpx.AsyncClient) -> None:
    body = {"required_suites": ["triage-quality"]}
    writer = await gated.put("/v1/policies/staging", json=body, headers=auth(Role.WRITER))
    assert writer.status_code == 403
    bad = await gated.put("/v1/policies/Bad Label", json=body)
    assert bad.status_code == 422
    bad_suite = await gated.put("/v1/policies/staging", json={"required_suites": ["Bad Name"]})
    assert bad_suite.status_code == 422
    assert len((await gated.get("/v1/policies")).json()) == 1


async def test_a_run_with_fewer_repeats_than_its_suite_is_no_evidence(
    gated: httpx.AsyncClient, db: Database
) -> None:
    # `eval run --repeats 1` is fine for a quick look, but it measured less than the suite asks:
    # a gate does not accept it (issue 17, item 15).
    await push_suite(gated, SUITE + "repeats: 3\n")
    repinned = await gated.put(
        "/v1/policies/production", json={"required_suites": ["triage-quality:2"]}
    )
    assert repinned.status_code == 200, repinned.text
    quick = await run_suite(gated, db, version=2, repeats=1, concurrency=8)
    assert (quick["verdict"], quick["total"]) == ("passed", 4)
    assert quick["manifest"]["overrides"] == {"concurrency": 8, "repeats": 1, "suite_repeats": 3}
    refused = await move(gated, 2)
    assert refused.status_code == 409
    assert "fewer than the suite's 3" in refused.json()["gate"]["suites"][0]["detail"]
    faster = await run_suite(gated, db, version=2, concurrency=16)  # concurrency alone counts
    assert faster["total"] == 12
    moved = await move(gated, 2)
    assert moved.status_code == 200, moved.text
    assert moved.json()["evidence"][0]["run_id"] == faster["id"]


async def test_the_dry_run_answers_for_the_callers_role(client: httpx.AsyncClient) -> None:
    # Without a policy, `production` is protected: the dry run must not tell a writer "allowed"
    # for a move the server refuses it (403), nor tell it anything the move would not.
    name = "dry/protected"
    await client.post(
        f"/v1/prompts/{name}/versions", json={"messages": [{"role": "user", "content": "hi"}]}
    )
    check = f"/v1/prompts/{name}/labels/{{}}/check"
    for role, label, allowed in [
        (Role.WRITER, "production", False),
        (Role.READER, "production", False),
        (Role.ADMIN, "production", True),
        (Role.WRITER, "staging", True),
        (Role.READER, "staging", False),
    ]:
        dry = await client.get(check.format(label), params={"version": 1}, headers=auth(role))
        assert dry.status_code == 200, dry.text
        assert dry.json()["allowed"] is allowed, (role, label, dry.json())
        moved = await client.put(
            f"/v1/prompts/{name}/labels/{label}",
            json={"version": 1, "reason": "dry-run agrees"},
            headers=auth(role),
        )
        assert (moved.status_code == 200) is allowed, (role, label, moved.text)
        if not allowed:
            assert "only" in dry.json()["detail"], dry.json()
            await client.delete(f"/v1/prompts/{name}/labels/{label}")
